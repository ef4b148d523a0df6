"""EASI-75 and IGA responder flags, the usual co-primary endpoints of atopic dermatitis trials.

- EASI-75: at least a 75% reduction of the Eczema Area and Severity Index from baseline,
  ``(baseline - followup) / baseline * 100 >= 75``. EASI runs 0-72 (Hanifin et al., Exp Dermatol
  2001;10:11-18). A baseline of 0 leaves nothing to reduce, so the flag cannot be computed and we
  say so rather than call it a response or a failure.
- IGA responder ("IGA 0/1"): Investigator's Global Assessment 0 (clear) or 1 (almost clear) at
  follow-up AND an improvement of at least 2 grades from baseline, on the 5-point 0-4 scale. This
  is the definition of the dupilumab phase 3 trials (Simpson et al., N Engl J Med
  2016;375:2335-2348) and of the validated IGA for AD (vIGA-AD; Simpson et al., J Am Acad
  Dermatol 2020;83:839-846), which regulators ask for.

Input: ``{"easi": {"baseline": b, "followup": f}, "iga": {"baseline": b, "followup": f}}``; either
measure may be left out, but not both. Percentages are computed exactly, so a reduction of
exactly 75% is a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from .tis import MeasureError, exact, problems_of

EASI_MAX = 72
EASI_RESPONSE_PERCENT = 75
IGA_MAX = 4
IGA_SUCCESS_MAX = 1       # 0 clear, 1 almost clear
IGA_MIN_IMPROVEMENT = 2   # grades


@dataclass(frozen=True)
class EasiResult:
    baseline: float
    followup: float
    percent_reduction: float  # negative when EASI rose; rounded to 4 decimals for display
    easi75: bool


@dataclass(frozen=True)
class IgaResult:
    baseline: int
    followup: int
    improvement: int  # grades, baseline - followup
    responder: bool


@dataclass(frozen=True)
class RespondersResult:
    easi: EasiResult | None
    iga: IgaResult | None

    def to_dict(self) -> dict:
        return {"easi": asdict(self.easi) if self.easi else None, "iga": asdict(self.iga) if self.iga else None}


def _pair(data: Mapping, name: str, unknown: list[str], missing: list[str],
          errors: list[str]) -> tuple[Any, Any] | None:
    given = data[name]
    if not isinstance(given, Mapping):
        errors.append(f"{name} must be {{\"baseline\": ..., \"followup\": ...}}, got {given!r}")
        return None
    unknown.extend(f"{name}.{k}" for k in given if k not in ("baseline", "followup"))
    absent = [f"{name}.{visit}" for visit in ("baseline", "followup") if given.get(visit) is None]
    missing.extend(absent)
    return None if absent else (given["baseline"], given["followup"])


def easi75(baseline: Any, followup: Any) -> EasiResult:
    """EASI-75 from baseline and follow-up EASI (0-72)."""
    errors = []
    values = {}
    for visit, raw in (("baseline", baseline), ("followup", followup)):
        number = exact(raw)
        if number is None or not 0 <= number <= EASI_MAX:
            errors.append(f"easi.{visit} must be a number 0-{EASI_MAX}, got {raw!r}")
        else:
            values[visit] = number
    if not errors and values["baseline"] == 0:
        errors.append("easi.baseline = 0: a percent reduction from a baseline of 0 cannot be computed")
    if errors:
        raise MeasureError("; ".join(errors))
    b, f = values["baseline"], values["followup"]
    reduction = (b - f) / b * 100
    return EasiResult(baseline=float(b), followup=float(f), percent_reduction=round(float(reduction), 4),
                      easi75=reduction >= EASI_RESPONSE_PERCENT)


def iga_responder(baseline: Any, followup: Any) -> IgaResult:
    """IGA 0/1 with at least a 2-grade improvement from baseline (IGA 0-4)."""
    errors = []
    grades: dict[str, Fraction] = {}
    for visit, raw in (("baseline", baseline), ("followup", followup)):
        number = exact(raw)
        if number is None or number.denominator != 1 or not 0 <= number <= IGA_MAX:
            errors.append(f"iga.{visit} must be a whole grade 0-{IGA_MAX}, got {raw!r}")
        else:
            grades[visit] = number
    if errors:
        raise MeasureError("; ".join(errors))
    b, f = int(grades["baseline"]), int(grades["followup"])
    return IgaResult(baseline=b, followup=f, improvement=b - f,
                     responder=f <= IGA_SUCCESS_MAX and b - f >= IGA_MIN_IMPROVEMENT)


def compute_responders(data: Mapping[str, Any]) -> RespondersResult:
    """EASI-75 and/or IGA responder flags from ``{"easi": {...}, "iga": {...}}``."""
    if not isinstance(data, Mapping):
        raise MeasureError(f"responder input must be an object with easi and/or iga, got {type(data).__name__}")
    unknown = [str(k) for k in data if k not in ("easi", "iga")]
    missing: list[str] = []
    errors: list[str] = []
    pairs = {name: _pair(data, name, unknown, missing, errors) for name in ("easi", "iga") if name in data}
    if not unknown and not pairs:
        missing.append("easi or iga")
    problems = problems_of(unknown, missing, errors)
    # Value errors of both measures are reported together, not one per run.
    easi = iga = None
    if pairs.get("easi"):
        try:
            easi = easi75(*pairs["easi"])
        except MeasureError as exc:
            problems.append(str(exc))
    if pairs.get("iga"):
        try:
            iga = iga_responder(*pairs["iga"])
        except MeasureError as exc:
            problems.append(str(exc))
    if problems:
        raise MeasureError("; ".join(problems))
    return RespondersResult(easi=easi, iga=iga)

