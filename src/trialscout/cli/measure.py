"""`trialscout measure ...`: myositis and dermatology trial outcome measures from JSON or CSV files.

The arithmetic lives in ``trialscout.measures``; this layer reads the file, turns every failure
(missing file, bad JSON, an invalid or missing measure) into one line naming the file, and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from trialscout.measures import (MeasureError, cohort_report, compute_cdasi, compute_mmt8, compute_responders,
                                 compute_tis, plot_report)
from trialscout.measures.cdasi import cdasi_structure
from trialscout.measures.tis import LABELS, show, tis_table

from .app import JsonOption, UserError, print_json, user_errors

out = Console(highlight=False)
T = TypeVar("T")

measure_app = typer.Typer(
    no_args_is_help=True, add_completion=False,
    help="Outcome measures of myositis and dermatology trials (TIS, CDASI, MMT-8, EASI-75/IGA), computed "
         "exactly from your files. Missing or out-of-range values are reported, never guessed.")

FileArgument = Annotated[Path, typer.Argument(help="JSON file with the scores (format in the command's help)",
                                              show_default=False)]



def _load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"{path}: invalid JSON: {exc}") from None


def _compute(path: Path, func: Callable[[Any], T]) -> T:
    data = _load_json(path)
    try:
        return func(data)
    except MeasureError as exc:
        raise UserError(f"{path}: {exc}") from None


@measure_app.command("tis")
@user_errors
def tis_command(file: FileArgument, as_json: JsonOption = False) -> None:
    """2016 ACR/EULAR Total Improvement Score and response category (adult DM/PM or juvenile DM).

    FILE: {"population": "adult"|"juvenile", "mmt8_scale": 80|150, "baseline": {...}, "followup": {...}}
    with physician_global, patient_global, mmt8, haq, enzyme and extramuscular_global at each visit;
    optional "enzyme_basis" ("baseline", the default, or "range" with an "enzyme_range" list of min and
    max) and "scales" overrides of the 0-10 / 0-3 defaults, e.g. a 0-100 mm physician VAS.
    """
    result = _compute(file, compute_tis)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"Total Improvement Score ({result.population})", title_justify="left", box=box.SIMPLE,
                  pad_edge=False)
    for col, justify in (("measure", "left"), ("baseline", "right"), ("follow-up", "right"), ("scale", "left"),
                         ("% improved", "right"), ("points", "right")):
        table.add_column(col, justify=justify, no_wrap=col != "measure")
    for m in result.measures:
        scale = (f"{show(m.scale_min)}-{show(m.scale_max)}" if m.basis == "range"
                 else "of baseline")
        table.add_row(LABELS[m.measure], show(m.baseline), show(m.followup), scale, f"{m.percent_change:.2f}",
                      show(m.points))
    out.print(table)
    levels = tis_table().thresholds[result.population]
    rule = ", ".join(f"{cat} >= {show(v)}" for cat, v in levels.items())
    out.print(f"[bold]Total: {show(result.total)} of 100[/bold] -> [bold]{result.category}[/bold] response "
              f"({result.population} thresholds: {rule})")


@measure_app.command("cdasi")
@user_errors
def cdasi_command(file: FileArgument, as_json: JsonOption = False) -> None:
    """CDASI v2 activity (0-100) and damage (0-32) totals.

    FILE: {"sites": {site: {"erythema", "scale", "erosion_ulceration", "poikiloderma", "calcinosis"}} for all
    15 sites, "gottron_hands": {"erythema", "papules", "ulceration", "damage"}, "periungual", "alopecia"}.
    """
    result = _compute(file, compute_cdasi)
    if as_json:
        print_json(result.to_dict())
        return
    labels = {site["key"]: site["label"] for site in cdasi_structure()["sites"]}
    table = Table(title="CDASI", title_justify="left")
    table.add_column("site")
    table.add_column("activity", justify="right")
    table.add_column("damage", justify="right")
    for key, score in result.per_site.items():
        table.add_row(labels[key], str(score.activity), str(score.damage))
    table.add_row(cdasi_structure()["gottron_hands"]["label"], str(result.gottron_hands.activity),
                  str(result.gottron_hands.damage))
    table.add_row("Periungual changes", str(result.periungual), "")
    table.add_row("Alopecia (recent hair loss)", str(result.alopecia), "")
    out.print(table)
    out.print(f"[bold]Activity {result.activity} of 100, damage {result.damage} of 32[/bold]")


@measure_app.command("mmt8")
@user_errors
def mmt8_command(file: FileArgument, as_json: JsonOption = False) -> None:
    """MMT-8 total on the 0-80 (one side) or 0-150 (both sides plus neck flexors) scale.

    FILE: {"scale": 80, "scores": {muscle: grade}} or {"scale": 150, "scores": {"neck_flexors": g,
    muscle: {"left": g, "right": g}}}, grades 0-10 (Kendall).
    """
    result = _compute(file, compute_mmt8)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"MMT-8 (0-{result.scale})", title_justify="left")
    table.add_column("muscle group")
    table.add_column("grade(s)", justify="right")
    for muscle, score in result.scores.items():
        grade = f"L {score['left']}, R {score['right']}" if isinstance(score, dict) else str(score)
        table.add_row(muscle.replace("_", " "), grade)
    out.print(table)
    out.print(f"[bold]Total {result.total} of {result.scale}[/bold]")


@measure_app.command("responders")
@user_errors
def responders_command(file: FileArgument, as_json: JsonOption = False) -> None:
    """EASI-75 and IGA 0/1 (with a 2-grade improvement) responder flags.

    FILE: {"easi": {"baseline": b, "followup": f}, "iga": {"baseline": b, "followup": f}} (either or both).
    """
    result = _compute(file, compute_responders)
    if as_json:
        print_json(result.to_dict())
        return
    if result.easi:
        e = result.easi
        out.print(f"EASI {show(e.baseline)} -> {show(e.followup)}: {e.percent_reduction:.2f}% reduction; "
                  f"EASI-75 [bold]{'yes' if e.easi75 else 'no'}[/bold]")
    if result.iga:
        i = result.iga
        out.print(f"IGA {i.baseline} -> {i.followup} ({i.improvement:+d} grades improvement); IGA 0/1 responder "
                  f"[bold]{'yes' if i.responder else 'no'}[/bold]")


@measure_app.command("cohort")
@user_errors
def cohort_command(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", show_default=False,
                                             help="Visits: participant, population, week and the six TIS measures")],
    week: Annotated[int, typer.Option(help="Follow-up week compared with week 0", show_default=False)],
    plot: Annotated[Optional[Path], typer.Option(help="Write a bar chart here (.png or .svg)")] = None,
    mmt8_scale: Annotated[Optional[int], typer.Option(help="MMT-8 scale (80 or 150) for rows that do not "
                                                           "give one")] = None,
    enzyme_basis: Annotated[Optional[str], typer.Option(help="Enzyme percent-change basis (baseline or range) "
                                                             "for rows that do not give one")] = None,
    as_json: JsonOption = False,
) -> None:
    """Participants reaching minimal, moderate and major TIS response at a week (cumulative counts).

    A major responder also counts as moderate and minimal. Participants without data at week 0 or at
    the chosen week are listed separately and not counted as responders; nothing is imputed.
    """
    try:
        report = cohort_report(csv_file, week, mmt8_scale=mmt8_scale, enzyme_basis=enzyme_basis)
    except OSError as exc:
        raise UserError(f"cannot read {csv_file}: {(exc.strerror or str(exc)).lower()}") from None
    except (MeasureError, UnicodeDecodeError) as exc:
        message = str(exc)
        raise UserError(message if message.startswith(csv_file.name) else f"{csv_file}: {message}") from None
    written = None
    if plot is not None:
        try:
            written = plot_report(report, plot)
        except OSError as exc:
            raise UserError(f"cannot write {plot}: {(exc.strerror or str(exc)).lower()}") from None
    if as_json:
        print_json({**report.to_dict(), "plot": str(written) if written else None})
        return
    table = Table(title=f"TIS response at week {report.week} vs week 0 (cumulative: a major responder also "
                        f"counts as moderate and minimal)", title_justify="left")
    for col, justify in (("response", "left"), ("responders", "right"), ("of evaluable", "right"),
                         ("of all participants", "right")):
        table.add_column(col, justify=justify)
    for row in report.table:
        share = row["share_of_evaluable"]
        table.add_row(row["response"], str(row["responders"]),
                      f"{row['responders']}/{row['evaluable']} ({share:.0%})" if share is not None else "-",
                      f"{row['responders']}/{row['participants']} ({row['share_of_participants']:.0%})")
    out.print(table)
    out.print(f"{report.evaluable} of {report.participants} participants evaluable.")
    if report.not_evaluable:
        out.print("Not evaluable (not counted as responders, nothing imputed):")
        for n in report.not_evaluable:
            out.print(f"  - {n.participant}: {n.reason}", markup=False)
    if written:
        out.print(f"Plot written to {written}", markup=False)
