"""MMT-8 (manual muscle testing of 8 designated muscle groups) totals on both IMACS conventions.

Each test is graded on the 0-10 Kendall scale. The eight groups are the neck flexors (axial,
tested once), deltoid, biceps brachii, wrist extensors, gluteus maximus, gluteus medius,
quadriceps and ankle dorsiflexors. Two totals are in use and they are not interchangeable:

- 0-80: the eight groups tested on one side (8 tests x 10);
- 0-150: the seven paired groups on both sides plus the neck flexors (15 tests x 10).

Input::

    {"scale": 80,  "scores": {"neck_flexors": 9, "deltoid": 8, ...}}
    {"scale": 150, "scores": {"neck_flexors": 9, "deltoid": {"left": 8, "right": 9}, ...}}

The total's scale is what the TIS needs as ``mmt8_scale``; it is reported, never inferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .tis import MeasureError, check, exact

MUSCLES = ("neck_flexors", "deltoid", "biceps_brachii", "wrist_extensors", "gluteus_maximus",
           "gluteus_medius", "quadriceps", "ankle_dorsiflexors")
AXIAL = frozenset({"neck_flexors"})
SIDES = ("left", "right")
GRADE_MAX = 10  # Kendall 0-10 scale
SCALES = (80, 150)


@dataclass(frozen=True)
class Mmt8Result:
    total: int
    scale: int
    scores: dict[str, int | dict[str, int]]  # per muscle: a grade, or {"left": g, "right": g} on the 0-150 scale

    def to_dict(self) -> dict:
        return {"total": self.total, "scale": self.scale, "scores": self.scores}


def _grade(value: Any, field: str, errors: list[str]) -> int | None:
    number = exact(value)
    if number is None or number.denominator != 1 or not 0 <= number <= GRADE_MAX:
        errors.append(f"{field} must be a whole Kendall grade 0-{GRADE_MAX}, got {value!r}")
        return None
    return int(number)


def compute_mmt8(data: Mapping[str, Any]) -> Mmt8Result:
    """MMT-8 total on the requested scale (80: one side; 150: both sides plus neck flexors)."""
    if not isinstance(data, Mapping):
        raise MeasureError(f"MMT-8 input must be an object with scale and scores, got {type(data).__name__}")
    unknown = [str(k) for k in data if k not in ("scale", "scores")]
    missing: list[str] = []
    errors: list[str] = []
    scale = data.get("scale")
    if scale is None:
        missing.append("scale (80 or 150)")
    elif isinstance(scale, bool) or scale not in SCALES:
        errors.append(f"scale must be 80 (one side) or 150 (both sides), got {scale!r}")
        scale = None
    given = data.get("scores")
    scores: dict[str, int | dict[str, int]] = {}
    if given is None:
        missing.append("scores")
    elif not isinstance(given, Mapping):
        errors.append(f"scores must be an object keyed by muscle ({', '.join(MUSCLES)})")
    else:
        unknown.extend(f"scores.{k}" for k in given if k not in MUSCLES)
        for muscle in MUSCLES:
            field = f"scores.{muscle}"
            value = given.get(muscle)
            if value is None:
                missing.append(field)
            elif scale == 150 and muscle not in AXIAL:
                # Both sides are graded separately; a single number would hide which side it is.
                if not isinstance(value, Mapping):
                    errors.append(f"{field} must be {{\"left\": grade, \"right\": grade}} on the 0-150 scale, "
                                  f"got {value!r}")
                    continue
                unknown.extend(f"{field}.{k}" for k in value if k not in SIDES)
                sides = {}
                for side in SIDES:
                    if value.get(side) is None:
                        missing.append(f"{field}.{side}")
                    elif (grade := _grade(value[side], f"{field}.{side}", errors)) is not None:
                        sides[side] = grade
                scores[muscle] = sides
            elif (grade := _grade(value, field, errors)) is not None:
                scores[muscle] = grade

    check(unknown, missing, errors)
    total = sum(sum(v.values()) if isinstance(v, dict) else v for v in scores.values())
    return Mmt8Result(total=total, scale=int(scale), scores=scores)
