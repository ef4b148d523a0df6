"""Search parameters from a URL query string -> store Filters, with errors that name the field.

Pages and the API share this, so a shareable page URL and an API URL take the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialscout.geo import Place, parse_distance, resolve_place
from trialscout.model.vocab import normalize_choice
from trialscout.store import Filters

from .errors import InputError

PER_PAGE = 10
MAX_PER_PAGE = 100
MAX_PAGE = 1000
_CHOICES = {"status": "status", "phase": "phase", "study_type": "study_type",
            "intervention_type": "intervention_type", "sponsor_class": "sponsor_class"}


@dataclass
class SearchParams:
    q: str | None = None
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    per_page: int = PER_PAGE
    place: Place | None = None
    near: str | None = None
    within: str | None = None
    raw: dict[str, list[str]] = field(default_factory=dict)  # what was asked, to refill the form

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = [v.strip() for v in params.get(name, []) if v and v.strip()]
    return values[-1] if values else None


def _number(params, name: str, low: float, high: float, cast=float):
    text = _one(params, name)
    if text is None:
        return None
    try:
        value = cast(text)
    except ValueError:
        raise InputError(f"{name} must be a number, got {text[:40]!r}", field=name) from None
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, got {text[:40]}", field=name)
    return value


def parse_search(params: dict[str, list[str]]) -> SearchParams:
    q = _one(params, "q")
    if q and len(q) > 500:
        raise InputError("q must be at most 500 characters", field="q")
    chosen: dict[str, tuple[str, ...]] = {}
    for name, kind in _CHOICES.items():
        values = []
        for v in params.get(name, []):
            for part in v.split(","):
                if part.strip():
                    try:
                        values.append(normalize_choice(kind, part.strip()))
                    except ValueError as exc:
                        raise InputError(str(exc), field=name) from None
        chosen[name] = tuple(dict.fromkeys(values))
    sex = _one(params, "sex")
    if sex:
        try:
            sex = normalize_choice("sex", sex)
        except ValueError as exc:
            raise InputError(str(exc), field="sex") from None
        sex = None if sex == "ALL" else sex
    hv = _one(params, "healthy_volunteers")
    if hv is not None and hv.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise InputError(f"healthy_volunteers must be yes or no, got {hv[:20]!r}", field="healthy_volunteers")
    healthy = None if hv is None else hv.lower() in ("1", "true", "yes", "on")
    near, within = _one(params, "near"), _one(params, "within")
    place = within_km = None
    if near:
        try:
            place = resolve_place(near[:200])
        except ValueError as exc:
            raise InputError(str(exc), field="near") from None
    if within:
        try:
            within_km = parse_distance(within[:40])
        except ValueError as exc:
            raise InputError(str(exc), field="within") from None
        if place is None:
            raise InputError("within needs near (a place to measure the distance from)", field="within")
    filters = Filters(statuses=chosen["status"], phases=chosen["phase"], study_types=chosen["study_type"],
                      intervention_types=chosen["intervention_type"], sponsor_classes=chosen["sponsor_class"],
                      countries=tuple(c.strip() for c in params.get("country", []) if c.strip()),
                      sex=sex, age=_number(params, "age", 0, 130), healthy_volunteers=healthy or None,
                      near=place, within_km=within_km)
    return SearchParams(q=q, filters=filters, page=_number(params, "page", 1, MAX_PAGE, int) or 1,
                        per_page=_number(params, "per_page", 1, MAX_PER_PAGE, int) or PER_PAGE,
                        place=place, near=near, within=within, raw=params)
