"""Which trials to check for a patient, checked and ranked: eligible first, then possibly eligible by
relevance discounted by the share of open questions, ineligible last."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from trialscout.criteria import Criterion, criteria_for, studied_conditions
from trialscout.geo import Place
from trialscout.patients import Patient
from trialscout.store import Filters, get_trial, search

from .evaluate import match_criteria, top_level
from .facts import PatientIndex
from .model import TrialMatch

__all__ = ["Candidates", "match_patient", "match_trials", "patient_query", "rank_key"]

_ORDER = {"eligible": 0, "possibly_eligible": 1, "ineligible": 2}
_OPEN = ("RECRUITING", "NOT_YET_RECRUITING")
_MAX_QUERIES = 8


@dataclass(frozen=True)
class Candidates:
    trial_ids: tuple[str, ...] = ()  # check exactly these; otherwise search
    pool: int = 100  # how many search hits to check
    recruiting_only: bool = False
    near: Place | None = None
    within_km: float | None = None


def patient_query(patient: Patient) -> list[str]:
    """The patient's conditions as search queries, one per condition (canonical names first)."""
    names = [f.concept or f.text for f in patient.of_kind("condition") if not f.negated and not f.family]
    return list(dict.fromkeys(names))


def match_patient(conn: sqlite3.Connection, patient: Patient, as_of: dt.date,
                  candidates: Candidates = Candidates()) -> list[TrialMatch]:
    if candidates.trial_ids:
        found = []
        for ident in candidates.trial_ids:
            trial = get_trial(conn, ident)
            if trial is not None:
                found.append((trial.id, trial.title, 0.0))
    else:
        sex = patient.sex.upper() if patient.sex else None
        filters = Filters(statuses=_OPEN if candidates.recruiting_only else (), sex=sex,
                          age=patient.age_on(as_of), near=candidates.near, within_km=candidates.within_km)
        # One search per condition, merged: a trial for any of the patient's conditions is a candidate
        # (one query with all of them would ask for trials about every condition at once).
        best: dict[str, tuple[str, str, float]] = {}
        for query in patient_query(patient)[:_MAX_QUERIES] or [None]:
            for h in search(conn, query, filters, limit=candidates.pool).hits:
                if h.id not in best or best[h.id][2] < h.score:
                    best[h.id] = (h.id, h.title, h.score)
        found = sorted(best.values(), key=lambda f: -f[2])[:candidates.pool]
    return match_trials(((ident, title, score, criteria_for(conn, ident) or [], studied_conditions(conn, ident))
                         for ident, title, score in found), patient, as_of)


def match_trials(trials: Iterable[tuple[str, str | None, float, list[Criterion], frozenset[str]]], patient: Patient,
                 as_of: dt.date) -> list[TrialMatch]:
    """Each trial (id, title, relevance, parsed criteria, the conditions it studies) checked for the
    patient, ranked. The patient's facts are indexed once for all of them, and the facts about each
    concept asked are looked up once (match.facts.PatientIndex)."""
    index = PatientIndex(patient, as_of)
    matches = [match_criteria(ident, criteria, patient, as_of, title, score=score, index=index, studied=studied)
               for ident, title, score, criteria, studied in trials]
    matches.sort(key=rank_key)
    return matches


def rank_key(m: TrialMatch) -> tuple:
    """Verdict first; a trial whose record states no criteria can't be checked at all, so it comes after
    those that can. Within a verdict relevance counts most, discounted by the *share* of criteria left
    open: ordering by the raw count of unknowns put trials with a handful of parsed criteria above the
    ones about the patient's disease (TREC 2021, docs/trec.md)."""
    return _ORDER[m.verdict], not m.criteria, -m.score * (1 - 0.5 * _open_share(m)), m.trial


def _open_share(m: TrialMatch) -> float:
    top = top_level(m.criteria)
    return sum(c.state == "unknown" for c in top) / len(top) if top else 1.0
