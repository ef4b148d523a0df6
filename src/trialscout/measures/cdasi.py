"""CDASI (Cutaneous Dermatomyositis Disease Area and Severity Index) v2 activity and damage totals.

The instrument's structure (15 anatomical sites with erythema, scale, erosion/ulceration,
poikiloderma and calcinosis; Gottron's papules on the hands; periungual changes; alopecia), every
item's range and whether it counts to activity (0-100) or damage (0-32) live in
``cdasi_items.json`` with its sources, and the maxima are checked on load to add up to the
published totals, so a slip in the data file fails loudly instead of shifting every score.

Input::

    {"sites": {"scalp": {"erythema": 2, "scale": 1, "erosion_ulceration": 0,
                         "poikiloderma": 0, "calcinosis": 0}, ... all 15 sites},
     "gottron_hands": {"erythema": 2, "papules": true, "ulceration": 0, "damage": 1},
     "periungual": 1,
     "alopecia": 0}

Every item is required (an unscored site is not a zero), scores are whole numbers in the item's
range, and unknown keys are refused so that a misspelt site cannot silently score 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from .tis import MeasureError, check, exact

_TOP_KEYS = ("sites", "gottron_hands", "periungual", "alopecia")


@cache
def cdasi_structure() -> dict:
    """The CDASI v2 structure from ``cdasi_items.json``, checked against its published totals."""
    raw = json.loads(resources.files(__package__).joinpath("cdasi_items.json").read_text(encoding="utf-8"))
    if maximum_totals(raw) != (raw["totals"]["activity"], raw["totals"]["damage"]):
        raise RuntimeError(f"cdasi_items.json: item maxima add up to {maximum_totals(raw)}, "
                           f"not the published {raw['totals']}")
    return raw


def maximum_totals(structure: Mapping | None = None) -> tuple[int, int]:
    """(activity, damage) that the item maxima add up to, counting the papule doubling."""
    s = structure if structure is not None else cdasi_structure()
    totals = {"activity": 0, "damage": 0}
    for item in s["site_items"].values():
        totals[item["counts_to"]] += item["max"] * len(s["sites"])
    for item in s["gottron_hands"]["items"].values():
        if item["counts_to"]:
            totals[item["counts_to"]] += item["max"] * (2 if item.get("doubled_if") else 1)
    for item in s["single_items"].values():
        totals[item["counts_to"]] += item["max"]
    return totals["activity"], totals["damage"]


@dataclass(frozen=True)
class SiteScore:
    activity: int
    damage: int


@dataclass(frozen=True)
class CdasiResult:
    activity: int
    damage: int
    per_site: dict[str, SiteScore]
    gottron_hands: SiteScore
    periungual: int
    alopecia: int

    def to_dict(self) -> dict:
        return {"activity": self.activity, "damage": self.damage,
                "per_site": {site: asdict(score) for site, score in self.per_site.items()},
                "gottron_hands": asdict(self.gottron_hands), "periungual": self.periungual,
                "alopecia": self.alopecia}


def _whole(value: Any, top: int, field: str, errors: list[str], *, flag: bool = False) -> int | None:
    if flag and isinstance(value, bool):
        return int(value)
    number = exact(value)
    if number is None or number.denominator != 1 or not 0 <= number <= top:
        allowed = "true/false or 0-1" if flag else f"a whole number 0-{top}"
        errors.append(f"{field} must be {allowed}, got {value!r}")
        return None
    return int(number)


def _group(given: Any, items: Mapping[str, Mapping], prefix: str, unknown: list[str], missing: list[str],
           errors: list[str]) -> dict[str, int] | None:
    if given is None:
        missing.append(prefix)
        return None
    if not isinstance(given, Mapping):
        errors.append(f"{prefix} must be an object of item scores ({', '.join(items)}), got {given!r}")
        return None
    unknown.extend(f"{prefix}.{k}" for k in given if k not in items)
    scores: dict[str, int] = {}
    for name, item in items.items():
        field = f"{prefix}.{name}"
        if given.get(name) is None:
            missing.append(field)
        elif (score := _whole(given[name], item["max"], field, errors, flag=item.get("flag", False))) is not None:
            scores[name] = score
    return scores


def _split(scores: Mapping[str, int], items: Mapping[str, Mapping]) -> SiteScore:
    totals = {"activity": 0, "damage": 0}
    for name, item in items.items():
        if item["counts_to"]:
            weight = 2 if item.get("doubled_if") and scores[item["doubled_if"]] else 1
            totals[item["counts_to"]] += scores[name] * weight
    return SiteScore(**totals)


def compute_cdasi(items: Mapping[str, Any]) -> CdasiResult:
    """CDASI v2 activity and damage totals, with the per-site breakdown."""
    if not isinstance(items, Mapping):
        raise MeasureError(f"CDASI input must be an object with {', '.join(_TOP_KEYS)}, got {type(items).__name__}")
    s = cdasi_structure()
    unknown: list[str] = [str(k) for k in items if k not in _TOP_KEYS]
    missing: list[str] = []
    errors: list[str] = []

    site_keys = [site["key"] for site in s["sites"]]
    sites_given = items.get("sites")
    site_scores: dict[str, dict[str, int] | None] = {}
    if sites_given is None:
        missing.append("sites")
    elif not isinstance(sites_given, Mapping):
        errors.append(f"sites must be an object keyed by site ({', '.join(site_keys)})")
    else:
        unknown.extend(f"sites.{k}" for k in sites_given if k not in site_keys)
        for key in site_keys:
            site_scores[key] = _group(sites_given.get(key), s["site_items"], f"sites.{key}", unknown, missing, errors)
    gottron = _group(items.get("gottron_hands"), s["gottron_hands"]["items"], "gottron_hands", unknown, missing,
                     errors)
    singles: dict[str, int] = {}
    for name, item in s["single_items"].items():
        if items.get(name) is None:
            missing.append(name)
        elif (score := _whole(items[name], item["max"], name, errors)) is not None:
            singles[name] = score

    check(unknown, missing, errors)

    per_site = {key: _split(scores, s["site_items"]) for key, scores in site_scores.items()}
    hands = _split(gottron, s["gottron_hands"]["items"])
    activity = sum(x.activity for x in per_site.values()) + hands.activity + sum(
        singles[name] for name, item in s["single_items"].items() if item["counts_to"] == "activity")
    damage = sum(x.damage for x in per_site.values()) + hands.damage + sum(
        singles[name] for name, item in s["single_items"].items() if item["counts_to"] == "damage")
    return CdasiResult(activity=activity, damage=damage, per_site=per_site, gottron_hands=hands,
                       periungual=singles["periungual"], alopecia=singles["alopecia"])
