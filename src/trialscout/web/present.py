"""A trial in plain language: labels, key-fact badges, schedule, sites by distance, similar trials.

Pure functions over the stored record and its parsed criteria, shared by the HTML pages and the JSON
API so both say the same thing. Wording lives in ``plain_language.json``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

from trialscout.criteria import Criterion
from trialscout.criteria.nlp import mentions
from trialscout.geo import Place, haversine_km
from trialscout.model import Trial
from trialscout.store import Filters, search
from trialscout.store.search import KM_PER_MILE

__all__ = ["Badge", "Site", "age_range", "glossary", "key_facts", "phase_label", "schedule", "similar_trials",
           "sites", "status_label", "wording"]


@cache
def wording() -> dict:
    return json.loads(resources.files("trialscout.web").joinpath("plain_language.json").read_text())


def glossary() -> dict[str, str]:
    return wording()["glossary"]


def status_label(status: str | None) -> tuple[str, str]:
    return tuple(wording()["status"].get(status or "UNKNOWN", [status or "Status not stated", ""]))  # type: ignore


def phase_label(phases: list[str]) -> str:
    names = wording()["phase"]
    return " / ".join(names.get(p, p) for p in phases) or "Phase not stated"


def age_range(trial: Trial) -> str:
    e = trial.eligibility
    low = e.minimum_age.text if e and e.minimum_age else None
    high = e.maximum_age.text if e and e.maximum_age else None
    if low and high:
        return f"{low} to {high}"
    if low:
        return f"{low} and older"
    if high:
        return f"up to {high}"
    return "any age"


def sex_label(trial: Trial) -> str:
    sex = trial.eligibility.sex if trial.eligibility else None
    return {"FEMALE": "women and girls only", "MALE": "men and boys only"}.get(sex or "", "all sexes")


@dataclass(frozen=True)
class Badge:
    key: str
    title: str
    explanation: str


def _badge(key: str, **fill: str) -> Badge:
    title, text = wording()["badges"][key]
    return Badge(key, title.format(**fill), text.format(**fill))


def _has_placebo(trial: Trial) -> bool:
    if any((a.type or "").upper() in ("PLACEBO_COMPARATOR", "SHAM_COMPARATOR") for a in trial.arms):
        return True
    names = [i.name for i in trial.interventions] + [a.label for a in trial.arms]
    return any(re.search(r"\bplacebo\b", n, re.I) for n in names)


def _already_taking(criteria: list[Criterion]) -> Badge | None:
    """The first inclusion sentence that requires a current treatment ("must be on ...") and names it.

    Sentence by sentence, because one criterion often allows some drugs ("can be continued") and
    requires another ("must be on at least one immunomodulatory medication")."""
    cues, permissive = wording()["already_taking_cues"], wording()["already_taking_permissive"]
    for c in criteria:
        if c.section != "inclusion":
            continue
        for m in re.finditer(r"[^.;]+[.;]?", c.text):
            low = m.group().lower()
            if not any(cue in low for cue in cues) or any(p in low for p in permissive):
                continue
            # The sentence is read again: a criterion's facts name each concept once, at its first mention.
            drugs = [x.concept for x in mentions(m.group()) if x.kind in ("drug", "drug_class") and not x.negated]
            if drugs:
                return _badge("already_taking", drugs=" or ".join(dict.fromkeys(drugs)), text=m.group().strip())
    return None


def key_facts(trial: Trial, criteria: list[Criterion]) -> list[Badge]:
    """Badges a patient reads first: placebo, randomization, masking, earlier testing, required treatment."""
    badges: list[Badge] = []
    interventional = (trial.study_type or "").upper() == "INTERVENTIONAL"
    if not interventional and trial.study_type:
        badges.append(_badge("observational"))
    if interventional and (trial.arms or trial.interventions):
        badges.append(_badge("placebo" if _has_placebo(trial) else "no_placebo"))
    design = trial.design
    if interventional and design:
        if design.allocation == "RANDOMIZED":
            badges.append(_badge("randomized"))
        elif design.intervention_model == "SINGLE_GROUP":
            badges.append(_badge("single_group"))
        elif design.allocation == "NON_RANDOMIZED":
            badges.append(_badge("not_randomized"))
        if design.masking == "NONE":
            badges.append(_badge("open_label"))
        elif design.masking:
            who = ", ".join(w.lower().replace("_", " ") for w in design.who_masked) or design.masking.lower()
            badges.append(_badge("masked", who=who))
    later = [p for p in trial.phases if p in ("PHASE2", "PHASE3", "PHASE4")]
    if later:
        badges.append(_badge("tested_before", phase=later[0][-1]))
    elif "PHASE1" in trial.phases or "EARLY_PHASE1" in trial.phases:
        badges.append(_badge("first_in_human"))
    if trial.eligibility and trial.eligibility.healthy_volunteers:
        badges.append(_badge("healthy_volunteers"))
    if (taking := _already_taking(criteria)) is not None:
        badges.append(taking)
    return badges


def schedule(trial: Trial) -> list[str]:
    """The distinct time frames the record gives for its outcomes, in order of first mention."""
    frames = [o.time_frame.strip() for o in trial.outcomes if o.time_frame and o.time_frame.strip()]
    return list(dict.fromkeys(frames))


@dataclass(frozen=True)
class Site:
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None
    distance_km: float | None
    contacts: list[dict]

    @property
    def distance_mi(self) -> float | None:
        return None if self.distance_km is None else self.distance_km / KM_PER_MILE

    def as_dict(self) -> dict:
        out = asdict(self)
        out["distance_mi"] = None if self.distance_mi is None else round(self.distance_mi, 1)
        out["distance_km"] = None if self.distance_km is None else round(self.distance_km, 1)
        return out


def sites(trial: Trial, near: Place | None = None) -> list[Site]:
    """Sites, nearest first when a place is given (sites without coordinates last)."""
    out = []
    for loc in trial.locations:
        dist = None
        if near is not None and loc.lat is not None and loc.lon is not None:
            dist = haversine_km(near.lat, near.lon, loc.lat, loc.lon)
        out.append(Site(loc.facility, loc.city, loc.state, loc.country, loc.status, dist,
                        [c.model_dump(exclude_none=True) for c in loc.contacts]))
    if near is not None:
        out.sort(key=lambda s: (s.distance_km is None, s.distance_km or 0.0))
    return out


def similar_trials(conn: sqlite3.Connection, trial: Trial, limit: int = 5) -> list[dict]:
    """Trials sharing the conditions (first) or interventions (then) of this one."""
    found: dict[str, dict] = {}
    terms = [*trial.conditions[:3], *(i.name for i in trial.interventions[:3] if (i.type or "") != "OTHER")]
    for term in terms:
        for hit in search(conn, term, Filters(), limit=limit + 1).hits:
            if hit.id != trial.id and hit.id not in found:
                found[hit.id] = {"id": hit.id, "title": hit.title, "status": hit.overall_status,
                                 "phases": hit.phases, "conditions": hit.conditions[:3], "because": term}
        if len(found) >= limit:
            break
    return list(found.values())[:limit]
