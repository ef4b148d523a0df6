"""Cohort report: how many participants reach a TIS response at a chosen week.

Dermatomyositis trials such as NCT07012057 and NCT04966884 take the TIS response at a given week
as their primary endpoint. This module reads participants' visits from a CSV, computes each
participant's TIS at the chosen week against their own baseline (week 0) and counts responders.

CSV columns: ``participant``, ``population`` (adult/juvenile), ``week`` and the six core set
measures (``physician_global``, ``patient_global``, ``mmt8``, ``haq``, ``enzyme``,
``extramuscular_global``); optional ``mmt8_scale`` (80/150), ``enzyme_basis``
(baseline/range), ``enzyme_range_min``/``enzyme_range_max`` and ``enzyme_name``. Lines starting
with ``#`` are comments. A blank cell is a measure that was not recorded.

Counts are cumulative: a major responder is also counted as a moderate and a minimal responder,
because "at least minimal response" is how the endpoints are stated. Participants without a
baseline or chosen-week visit, or with a measure missing at either, are listed separately with
the reason: they are not counted as responders and nothing is imputed. Shares are given both
of the evaluable participants and of all participants (the latter treats the unevaluable as
non-responders, as a non-responder-imputation analysis would).

Values that are present but wrong (out of range, not a number, a different enzyme or MMT-8
scale at follow-up than at baseline) stop the report with a ``MeasureError`` naming the
participant: those are data errors to fix, not missing data.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .tis import CATEGORIES, MEASURES, POPULATIONS, MeasureError, compute_tis

BASELINE_WEEK = 0
REQUIRED_COLUMNS = ("participant", "population", "week", *MEASURES)
OPTIONAL_COLUMNS = ("mmt8_scale", "enzyme_basis", "enzyme_range_min", "enzyme_range_max", "enzyme_name")
LEVELS = CATEGORIES[1:]  # minimal, moderate, major
PLOT_FORMATS = {".png": "png", ".svg": "svg"}


@dataclass(frozen=True)
class Visit:
    participant: str
    population: str
    week: int
    values: dict[str, Decimal | None]   # the six measures; None = not recorded
    settings: dict[str, str | None]     # the optional columns, raw text; None = blank or absent


@dataclass(frozen=True)
class ParticipantOutcome:
    participant: str
    population: str
    total: float
    category: str


@dataclass(frozen=True)
class NotEvaluable:
    participant: str
    reason: str


@dataclass(frozen=True)
class CohortReport:
    week: int
    participants: int
    evaluable: int
    table: list[dict]  # one row per response level, cumulative
    outcomes: list[ParticipantOutcome]
    not_evaluable: list[NotEvaluable]

    def to_dict(self) -> dict:
        return {"week": self.week, "baseline_week": BASELINE_WEEK, "participants": self.participants,
                "evaluable": self.evaluable, "cumulative": True, "table": self.table,
                "outcomes": [asdict(o) for o in self.outcomes],
                "not_evaluable": [asdict(n) for n in self.not_evaluable]}


def _data_lines(handle) -> Iterator[str]:
    for line in handle:
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def _number(text: str, where: str, column: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MeasureError(f"{where}: {column} = {text!r} is not a number") from None
    if not value.is_finite():
        raise MeasureError(f"{where}: {column} = {text!r} is not a number")
    return value


def read_visits(path: str | Path) -> list[Visit]:
    """Every visit row of the CSV, validated for shape (columns, weeks, populations), not for scores."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(_data_lines(handle))
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        unknown = [c for c in header if c not in REQUIRED_COLUMNS and c not in OPTIONAL_COLUMNS]
        if missing or unknown:
            parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
                [f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
            raise MeasureError(f"{path.name}: {'; '.join(parts)}")
        visits = []
        seen: dict[tuple[str, int], None] = {}
        populations: dict[str, str] = {}
        for row in reader:
            # A short or long row is a broken line, not a visit with measures left blank.
            if None in row or None in row.values():
                raise MeasureError(f"{path.name}: the row for {row.get('participant')!r} has "
                                   f"{'more' if None in row else 'fewer'} cells than the header has columns")
            participant = (row["participant"] or "").strip()
            if not participant:
                raise MeasureError(f"{path.name}: a row has no participant")
            week_text = (row["week"] or "").strip()
            if not week_text.isdigit():
                raise MeasureError(f"{path.name}: participant {participant}: week must be a whole number "
                                   f"of weeks, got {week_text!r}")
            week = int(week_text)
            where = f"participant {participant} week {week}"
            if (participant, week) in seen:
                raise MeasureError(f"{path.name}: {where} appears twice")
            seen[(participant, week)] = None
            population = (row["population"] or "").strip().lower()
            if population not in POPULATIONS:
                raise MeasureError(f"{path.name}: {where}: population must be adult or juvenile, "
                                   f"got {row['population']!r}")
            if populations.setdefault(participant, population) != population:
                raise MeasureError(f"{path.name}: participant {participant} is both {populations[participant]} "
                                   f"and {population}")
            values = {m: _number(row[m] or "", f"{path.name}: {where}", m) for m in MEASURES}
            settings = {c: ((row.get(c) or "").strip() or None) for c in OPTIONAL_COLUMNS}
            visits.append(Visit(participant, population, week, values, settings))
    return visits


def _setting(participant: str, name: str, base: Visit, follow: Visit, default: str | None) -> str | None:
    """A per-visit setting that must be the same at both visits being compared."""
    b, f = base.settings[name], follow.settings[name]
    if b and f and b != f:
        raise MeasureError(f"participant {participant}: {name} is {b} at week {base.week} but {f} at week "
                           f"{follow.week}; the TIS compares like with like")
    return b or f or default


def _tis_input(base: Visit, follow: Visit, mmt8_scale: int | None, enzyme_basis: str | None) -> dict:
    p = base.participant
    scale = _setting(p, "mmt8_scale", base, follow, str(mmt8_scale) if mmt8_scale else None)
    if scale is None:
        raise MeasureError(f"participant {p}: no mmt8_scale (add an mmt8_scale column or pass the scale, "
                           f"80 or 150); it is not guessed because it changes the result")
    if not scale.isdigit():
        raise MeasureError(f"participant {p}: mmt8_scale must be 80 or 150, got {scale!r}")
    _setting(p, "enzyme_name", base, follow, None)
    data: dict = {"population": base.population, "mmt8_scale": int(scale),
                  "baseline": dict(base.values), "followup": dict(follow.values)}
    basis = _setting(p, "enzyme_basis", base, follow, enzyme_basis)
    if basis is not None:
        data["enzyme_basis"] = basis
    bounds = [_setting(p, c, base, follow, None) for c in ("enzyme_range_min", "enzyme_range_max")]
    if any(bounds):
        data["enzyme_range"] = [_number(b or "", f"participant {p}", "enzyme_range") for b in bounds]
    return data


def cohort_report(path: str | Path, week: int, *, mmt8_scale: int | None = None,
                  enzyme_basis: str | None = None) -> CohortReport:
    """TIS response counts at ``week`` versus week 0 for every participant in the CSV.

    ``mmt8_scale`` and ``enzyme_basis`` apply to rows that leave those columns blank or lack them.
    """
    if isinstance(week, bool) or not isinstance(week, int) or week <= BASELINE_WEEK:
        raise MeasureError(f"the follow-up week must be a whole number after baseline (week {BASELINE_WEEK}), "
                           f"got {week!r}")
    visits = read_visits(path)
    weeks = sorted({v.week for v in visits})
    if week not in weeks:
        raise MeasureError(f"{Path(path).name}: no visit at week {week}; weeks present: "
                           f"{', '.join(map(str, weeks)) or 'none'}")
    by_participant: dict[str, dict[int, Visit]] = {}
    for v in visits:
        by_participant.setdefault(v.participant, {})[v.week] = v

    outcomes: list[ParticipantOutcome] = []
    not_evaluable: list[NotEvaluable] = []
    for participant, seen in by_participant.items():
        base, follow = seen.get(BASELINE_WEEK), seen.get(week)
        reasons = []
        for label, visit in ((f"week {BASELINE_WEEK}", base), (f"week {week}", follow)):
            if visit is None:
                reasons.append(f"no {label} visit")
            elif gaps := [m for m in MEASURES if visit.values[m] is None]:
                reasons.append(f"{label}: missing {', '.join(gaps)}")
        if reasons:
            not_evaluable.append(NotEvaluable(participant, "; ".join(reasons)))
            continue
        try:
            result = compute_tis(_tis_input(base, follow, mmt8_scale, enzyme_basis))
        except MeasureError as exc:
            message = str(exc)
            prefix = f"participant {participant}"
            raise MeasureError(message if message.startswith(prefix) else
                               f"{prefix} (week {BASELINE_WEEK} vs week {week}): {message}") from None
        outcomes.append(ParticipantOutcome(participant, base.population, result.total, result.category))

    evaluable = len(outcomes)
    everyone = len(by_participant)
    table = []
    for level in LEVELS:
        rank = CATEGORIES.index(level)
        n = sum(1 for o in outcomes if CATEGORIES.index(o.category) >= rank)
        table.append({"response": f"at least {level}", "level": level, "responders": n, "evaluable": evaluable,
                      "share_of_evaluable": round(n / evaluable, 4) if evaluable else None,
                      "participants": everyone, "share_of_participants": round(n / everyone, 4)})
    return CohortReport(week=week, participants=everyone, evaluable=evaluable, table=table,
                        outcomes=outcomes, not_evaluable=not_evaluable)


def plot_report(report: CohortReport, out: str | Path) -> Path:
    """Bar chart of the cumulative response shares; PNG or SVG chosen by the file extension."""
    out = Path(out)
    fmt = PLOT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"plot file must end in .png or .svg, got {out.name!r}")
    # Imported here so the rest of trialscout works (and starts fast) without matplotlib loaded.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)  # the non-interactive Agg backend: no display needed
    ax = fig.add_subplot()
    labels = [row["response"] for row in report.table]
    shares = [100 * (row["share_of_evaluable"] or 0) for row in report.table]
    bars = ax.bar(labels, shares, color=["#9ecae1", "#4292c6", "#08519c"])
    for bar, row in zip(bars, report.table):
        ax.annotate(f"{row['responders']}/{row['evaluable']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of evaluable participants")
    ax.set_title(f"TIS response at week {report.week} vs week {BASELINE_WEEK} (cumulative)")
    ax.text(0.99, 0.97, f"{report.evaluable} evaluable, {len(report.not_evaluable)} without data (not counted)",
            transform=ax.transAxes, ha="right", va="top", fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt)
    return out
