"""2016 ACR/EULAR Total Improvement Score (TIS) for adult DM/PM and juvenile DM.

The TIS adds points for the improvement in each of the six IMACS core set measures between a
baseline and a follow-up visit, and the total (0-100) gives the response category. The bands,
points, thresholds and default scale ranges live in ``tis_bands.json`` with their sources
(Aggarwal et al. and Rider et al., Arthritis Rheumatol / Ann Rheum Dis 2017), so the code holds
no clinical numbers of its own.

Improvement is the absolute percent change over the measure's scale range:
``(baseline - followup) / (max - min) * 100`` for the lower-is-better measures and
``(followup - baseline) / (max - min) * 100`` for the MMT-8. Worsening is negative and scores 0.

Muscle enzymes have no bounded scale. ``enzyme_basis`` chooses how their percent change is taken:

- ``"baseline"`` (the default): relative to the baseline value, ``(b - f) / b * 100``. This is our
  reading of the criteria papers, which call every measure's change "absolute percent change"
  and give enzymes no range. We have not verified it against the source of the IMACS/NIEHS web
  calculators, which also ask for each enzyme's upper limit of normal (needed at least to pick
  the "most abnormal" enzyme); see ``_enzyme_basis`` in the data file.
- ``"range"``: over an explicit ``enzyme_range`` ``[min, max]``, for an analysis plan that fixes one.

Band edges are inclusive upper bounds, so an improvement of exactly 5% must score as "<= 5%".
Binary floats cannot promise that (0.15 * 100 is 15.000000000000002), so every value is turned
into the exact decimal the person wrote (``Fraction(repr(x))``) and all arithmetic is exact.

Input (a dict, e.g. parsed JSON)::

    {"population": "adult" | "juvenile",
     "mmt8_scale": 80 | 150,                       # required: guessing it changes the result
     "enzyme_basis": "baseline" | "range",         # optional, default "baseline"
     "enzyme_range": [min, max],                   # only with enzyme_basis "range"
     "scales": {"physician_global": [0, 100]},     # optional overrides of the default ranges
     "baseline": {measure: value, ...}, "followup": {measure: value, ...}}

Nothing is guessed: a missing measure, a value outside its scale, an unknown key (a typo would
otherwise drop a measure) all raise ``MeasureError`` naming every offending field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

MEASURES = ("physician_global", "patient_global", "mmt8", "haq", "enzyme", "extramuscular_global")
LABELS = {"physician_global": "physician global", "patient_global": "patient/parent global", "mmt8": "MMT-8",
          "haq": "HAQ/CHAQ", "enzyme": "muscle enzyme", "extramuscular_global": "extramuscular global"}
HIGHER_IS_BETTER = frozenset({"mmt8"})
POPULATIONS = ("adult", "juvenile")
CATEGORIES = ("none", "minimal", "moderate", "major")
VISITS = ("baseline", "followup")
_TOP_KEYS = ("population", "baseline", "followup", "mmt8_scale", "enzyme_basis", "enzyme_range", "scales")


class MeasureError(ValueError):
    """Input an outcome measure cannot be computed from; the message names every offending field."""


def problems_of(unknown: list[str], missing: list[str], errors: list[str]) -> list[str]:
    """Every problem of an input in one list, so one run shows all that needs fixing."""
    problems = []
    if unknown:
        problems.append(f"unknown key(s): {', '.join(unknown)}")
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    return problems + errors


def check(unknown: list[str], missing: list[str], errors: list[str]) -> None:
    if problems := problems_of(unknown, missing, errors):
        raise MeasureError("; ".join(problems))


def exact(value: Any) -> Fraction | None:
    """The exact number a person wrote, or None when ``value`` is not a finite number.

    Floats go through ``repr`` so that 0.1 means one tenth, not the binary float nearest to it.
    Booleans are refused: ``True`` is an int in Python but never a score.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Fraction(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return Fraction(value) if value.is_finite() else None
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return None


def show(value: Fraction | float | int) -> str:
    """A number as a person would write it: 10, 7.5, 0.45 (no 10.0, no 0.45000000000000001)."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


@dataclass(frozen=True)
class Band:
    edges: tuple[Fraction, ...]
    points: tuple[Fraction, ...]

    def points_for(self, percent: Fraction) -> Fraction:
        for edge, points in zip(self.edges, self.points):
            if percent <= edge:
                return points
        return self.points[-1]


@dataclass(frozen=True)
class TisTable:
    bands: dict[str, Band]
    thresholds: dict[str, dict[str, Fraction]]
    scales: dict[str, tuple[Fraction, Fraction]]
    mmt8_scales: tuple[int, ...]
    enzyme_basis_default: str
    enzyme_bases: tuple[str, ...]


def _frac(x: int | float | str) -> Fraction:
    return Fraction(str(x))


@cache
def tis_table() -> TisTable:
    """The bands, thresholds and default scales from ``tis_bands.json``."""
    raw = json.loads(resources.files(__package__).joinpath("tis_bands.json").read_text(encoding="utf-8"))
    bands = {m: Band(tuple(_frac(e) for e in b["edges"]), tuple(_frac(p) for p in b["points"]))
             for m, b in raw["bands"].items()}
    if set(bands) != set(MEASURES) or any(len(b.points) != len(b.edges) + 1 for b in bands.values()):
        raise RuntimeError("tis_bands.json: each of the six measures needs n edges and n + 1 point values")
    return TisTable(
        bands=bands,
        thresholds={pop: {cat: _frac(v) for cat, v in levels.items()} for pop, levels in raw["thresholds"].items()},
        scales={m: (_frac(lo), _frac(hi)) for m, (lo, hi) in raw["scales"].items()},
        mmt8_scales=tuple(raw["mmt8_scales"]),
        enzyme_basis_default=raw["enzyme_basis_default"],
        enzyme_bases=tuple(raw["enzyme_bases"]),
    )


def categorize(total: float | Fraction | Decimal, population: str) -> str:
    """Response category for a Total Improvement Score: none, minimal, moderate or major."""
    levels = tis_table().thresholds.get(population)
    if levels is None:
        raise MeasureError(f"population must be one of {', '.join(POPULATIONS)}, got {population!r}")
    score = exact(total)
    if score is None:
        raise MeasureError(f"total must be a number, got {total!r}")
    reached = [cat for cat in CATEGORIES[1:] if score >= levels[cat]]
    return reached[-1] if reached else "none"


@dataclass(frozen=True)
class MeasureScore:
    measure: str
    baseline: float
    followup: float
    scale_min: float | None  # None for an enzyme measured against its baseline value: no scale
    scale_max: float | None
    percent_change: float    # improvement in percent (negative = worse), rounded to 4 decimals for display
    points: float
    basis: str               # "range" (percent of scale_max - scale_min) or "baseline" (percent of baseline)


@dataclass(frozen=True)
class TisResult:
    population: str
    measures: tuple[MeasureScore, ...]
    total: float
    category: str
    enzyme_basis: str

    def to_dict(self) -> dict:
        return {"population": self.population, "measures": [asdict(m) for m in self.measures],
                "total": self.total, "category": self.category, "enzyme_basis": self.enzyme_basis}


def _range(value: Any, field: str, errors: list[str]) -> tuple[Fraction, Fraction] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        errors.append(f"{field} must be [min, max], got {value!r}")
        return None
    lo, hi = exact(value[0]), exact(value[1])
    if lo is None or hi is None or lo >= hi:
        errors.append(f"{field} must be [min, max] with numbers and min < max, got {value!r}")
        return None
    return lo, hi


def compute_tis(data: Mapping[str, Any]) -> TisResult:
    """Total Improvement Score, per-measure points and response category from baseline and follow-up."""
    if not isinstance(data, Mapping):
        raise MeasureError(f"TIS input must be an object with population, baseline and followup, "
                           f"got {type(data).__name__}")
    table = tis_table()
    unknown: list[str] = [str(k) for k in data if k not in _TOP_KEYS]
    missing: list[str] = []
    errors: list[str] = []

    population = data.get("population")
    if population is None:
        missing.append("population")
    elif population not in POPULATIONS:
        errors.append(f"population must be one of {', '.join(POPULATIONS)}, got {population!r}")

    scales = dict(table.scales)
    overrides = data.get("scales")
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            errors.append(f"scales must be an object like {{\"physician_global\": [0, 100]}}, got {overrides!r}")
        else:
            for measure, value in overrides.items():
                if measure not in table.scales:
                    unknown.append(f"scales.{measure}")
                elif (rng := _range(value, f"scales.{measure}", errors)) is not None:
                    scales[measure] = rng

    mmt8_scale = data.get("mmt8_scale")
    if mmt8_scale is None:
        missing.append("mmt8_scale (80 or 150; not guessed, it changes the result)")
    elif isinstance(mmt8_scale, bool) or mmt8_scale not in table.mmt8_scales:
        errors.append(f"mmt8_scale must be one of {', '.join(map(str, table.mmt8_scales))}, got {mmt8_scale!r}")
    else:
        scales["mmt8"] = (Fraction(0), Fraction(mmt8_scale))

    basis = data.get("enzyme_basis", table.enzyme_basis_default)
    enzyme_range = data.get("enzyme_range")
    if basis not in table.enzyme_bases:
        errors.append(f"enzyme_basis must be one of {', '.join(table.enzyme_bases)}, got {basis!r}")
    elif basis == "range":
        if enzyme_range is None:
            missing.append("enzyme_range (needed with enzyme_basis 'range')")
        elif (rng := _range(enzyme_range, "enzyme_range", errors)) is not None:
            scales["enzyme"] = rng
    elif enzyme_range is not None:
        errors.append(f"enzyme_range is only used with enzyme_basis 'range' (enzyme_basis is {basis!r})")

    values: dict[str, dict[str, Fraction]] = {}
    for visit in VISITS:
        given = data.get(visit)
        if given is None:
            missing.extend(f"{visit}.{m}" for m in MEASURES)
            continue
        if not isinstance(given, Mapping):
            errors.append(f"{visit} must be an object of the six measures, got {type(given).__name__}")
            continue
        unknown.extend(f"{visit}.{k}" for k in given if k not in MEASURES)
        values[visit] = {}
        for measure in MEASURES:
            raw = given.get(measure)
            if raw is None:
                missing.append(f"{visit}.{measure}")
                continue
            number = exact(raw)
            if number is None:
                errors.append(f"{visit}.{measure} must be a number, got {raw!r}")
                continue
            values[visit][measure] = number

    # Range checks need the scales settled above, so they come after every value is read.
    for visit, measures in values.items():
        for measure, number in measures.items():
            field = f"{visit}.{measure}"
            if measure == "enzyme" and basis != "range":
                if number < 0:
                    errors.append(f"{field} = {show(number)} must not be negative")
                elif visit == "baseline" and number == 0:
                    errors.append(f"{field} = 0: a percent change from a baseline of 0 cannot be computed")
            elif measure in scales:
                lo, hi = scales[measure]
                if not lo <= number <= hi:
                    errors.append(f"{field} = {show(number)} is outside its scale {show(lo)}-{show(hi)}")

    check(unknown, missing, errors)

    scores = []
    total = Fraction(0)
    for measure in MEASURES:
        b, f = values["baseline"][measure], values["followup"][measure]
        change = f - b if measure in HIGHER_IS_BETTER else b - f
        if measure == "enzyme" and basis == "baseline":
            lo = hi = None
            percent = change / b * 100
        else:
            lo, hi = scales[measure]
            percent = change / (hi - lo) * 100
        points = table.bands[measure].points_for(percent)
        total += points
        scores.append(MeasureScore(
            measure=measure, baseline=float(b), followup=float(f),
            scale_min=None if lo is None else float(lo), scale_max=None if hi is None else float(hi),
            percent_change=round(float(percent), 4), points=float(points),
            basis="baseline" if lo is None else "range"))
    return TisResult(population=population, measures=tuple(scores), total=float(total),
                     category=categorize(total, population), enzyme_basis=basis)
