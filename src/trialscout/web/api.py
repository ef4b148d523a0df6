"""The JSON API, versioned under /api/v1. Field names are stable and documented in docs/api.md.

Patients sent to /match and answers sent to /fit are read in memory and forgotten.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import asdict
from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from trialscout.criteria import Criterion, criteria_for
from trialscout.geo import parse_distance, resolve_place
from trialscout.match import Candidates, TrialMatch, match_patient
from trialscout.measures import MeasureError, compute_cdasi, compute_mmt8, compute_responders, compute_tis
from trialscout.model import Trial
from trialscout.patients import (Patient, PatientInputError, patient_from_fhir, patient_from_note,
                                 patient_from_profile)
from trialscout.store import get_trial, search, sponsor_summary, stats

from .errors import InputError
from .present import age_range, key_facts, schedule, similar_trials, sites
from .query import parse_search
from .questionnaire import check_fit, questions_for

router = APIRouter(prefix="/api/v1", tags=["api"])

MAX_NOTE = 5_000_000
_MEASURES = {"tis": compute_tis, "cdasi": compute_cdasi, "mmt8": compute_mmt8, "responders": compute_responders}


def conn_of(request: Request) -> sqlite3.Connection:
    return request.app.state.store.conn()


def cached_json(request: Request, build: Callable[[], Any]) -> Response:
    """GET answers depend only on the URL and the store: rendered once, served from memory after."""
    key = f"json {request.url.path}?{request.url.query}"
    body = request.app.state.cache.get(key, lambda: orjson.dumps(build(), option=orjson.OPT_NON_STR_KEYS))
    return Response(body, media_type="application/json")


def trial_or_404(conn: sqlite3.Connection, ident: str) -> Trial:
    trial = get_trial(conn, ident.strip()[:64]) if ident.strip() else None
    if trial is None:
        raise InputError(f"no trial {ident[:64]!r} in this store", field="id", status=404)
    return trial


def criteria_of(conn: sqlite3.Connection, trial: Trial) -> list[Criterion]:
    return criteria_for(conn, trial.id) or []


def as_of_date(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"as_of must be a date like 2026-01-31, got {text[:20]!r}", field="as_of") from None


@router.get("/search", summary="Search trials with filters; paged, with facet counts")
def api_search(request: Request,
               q: Annotated[str | None, Query(description="words to find; empty lists newest trials")] = None,
               status: Annotated[list[str], Query(description="recruiting, not_yet_recruiting, ...")] = [],
               phase: Annotated[list[str], Query(description="phase1, phase2, ...")] = [],
               study_type: Annotated[list[str], Query()] = [],
               intervention_type: Annotated[list[str], Query(description="drug, device, behavioral, ...")] = [],
               sex: Annotated[str | None, Query(description="the person's sex: female or male")] = None,
               age: Annotated[str | None, Query(description="the person's age in years")] = None,
               healthy_volunteers: Annotated[str | None, Query(description="yes: only trials taking them")] = None,
               near: Annotated[str | None, Query(description="a place: 'Cleveland, OH' or 'LAT,LON'")] = None,
               within: Annotated[str | None, Query(description="radius around near: 100mi, 50km")] = None,
               page: Annotated[str | None, Query()] = None,
               per_page: Annotated[str | None, Query(description="1-100, default 10")] = None) -> Response:
    params = parse_search({k: request.query_params.getlist(k) for k in request.query_params.keys()})

    def build() -> dict:
        result = search(conn_of(request), params.q, params.filters, limit=params.per_page, offset=params.offset,
                        facets=True)
        return {"query": result.query, "match": result.match, "total": result.total, "page": params.page,
                "per_page": params.per_page, "results": [h.as_dict() for h in result.hits],
                "facets": result.facets}

    return cached_json(request, build)


@router.get("/trials/{trial_id}", summary="A trial's full record plus its plain-language summary")
def api_trial(request: Request, trial_id: str, near: str | None = None) -> Response:
    return cached_json(request, lambda: _trial_json(request, trial_id, near))


def _trial_json(request: Request, trial_id: str, near: str | None) -> dict:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    place = None
    if near:
        try:
            place = resolve_place(near[:200])
        except ValueError as exc:
            raise InputError(str(exc), field="near") from None
    criteria = criteria_of(conn, trial)
    return {"trial": trial.model_dump(mode="json", exclude_none=True),
            "plain": {"age_range": age_range(trial), "key_facts": [asdict(b) for b in key_facts(trial, criteria)],
                      "schedule": schedule(trial), "sites": [s.as_dict() for s in sites(trial, place)],
                      "sponsor": sponsor_summary(conn, trial.lead_sponsor.name if trial.lead_sponsor else None)}}


@router.get("/trials/{trial_id}/criteria", summary="The trial's eligibility criteria, parsed into facts")
def api_criteria(request: Request, trial_id: str) -> Response:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    return cached_json(request, lambda: {"trial": trial.id,
                                         "criteria": [c.model_dump(mode="json") for c in criteria_of(conn, trial)]})


@router.get("/trials/{trial_id}/similar", summary="Trials with the same conditions or interventions")
def api_similar(request: Request, trial_id: str, limit: Annotated[int, Query(ge=1, le=50)] = 5) -> dict:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    return {"trial": trial.id, "similar": similar_trials(conn, trial, limit)}


@router.get("/trials/{trial_id}/questionnaire", summary="The 'Am I a good fit?' questions for this trial")
def api_questionnaire(request: Request, trial_id: str) -> Response:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    return cached_json(request, lambda: {"trial": trial.id, "questions": [
        q.model_dump(mode="json") for q in questions_for(criteria_of(conn, trial))]})


class FitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, str | float | int | bool | None] = Field(description="question name -> answer")
    as_of: str | None = Field(None, description="date the time windows count back from (default today)")


@router.post("/trials/{trial_id}/fit", summary="Answers to the questionnaire in, criterion-by-criterion result out")
def api_fit(request: Request, trial_id: str, body: FitRequest) -> dict:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    answers = {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
               for k, v in body.answers.items()}
    try:
        result, _ = check_fit(trial.id, trial.title, criteria_of(conn, trial), answers, as_of_date(body.as_of))
    except PatientInputError as exc:
        raise InputError(str(exc), field="answers") from None
    return result.model_dump(mode="json")


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: dict[str, Any] | None = Field(None, description="a patient profile (docs/patient-profile.schema.json)")
    fhir: dict[str, Any] | None = Field(None, description="a FHIR R4 Bundle")
    note: str | None = Field(None, description="a free-text clinical note", max_length=MAX_NOTE)
    trials: list[str] = Field(default_factory=list, max_length=200, description="check only these trials")
    top: int = Field(20, ge=1, le=200)
    recruiting_only: bool = False
    near: str | None = Field(None, max_length=200)
    within: str | None = Field(None, max_length=40)
    as_of: str | None = None


def read_patient(kind: Literal["profile", "fhir", "note"], data: Any, as_of: dt.date | None = None) -> Patient:
    """Any of the three inputs -> Patient; FHIR problems are 422, the others 400. A note's relative
    times ("2 years ago") are dated from ``as_of``."""
    try:
        if kind == "fhir":
            return patient_from_fhir(data, source_name="fhir")
        if kind == "profile":
            return patient_from_profile(data, source_name="profile")
        if not str(data).strip():
            raise InputError("note is empty", field="note")
        return patient_from_note(str(data), source_name="note", as_of=as_of)
    except PatientInputError as exc:
        raise InputError(str(exc), field=kind, status=422 if kind == "fhir" else 400) from None


def run_match(conn: sqlite3.Connection, patient: Patient, *, trials: list[str] = (), top: int = 20,
              recruiting_only: bool = False, near: str | None = None, within: str | None = None,
              as_of: dt.date) -> list[TrialMatch]:
    place = within_km = None
    try:
        if near:
            place = resolve_place(near)
        if within:
            within_km = parse_distance(within)
    except ValueError as exc:
        raise InputError(str(exc), field="near" if near and place is None else "within") from None
    candidates = Candidates(trial_ids=tuple(t.strip() for t in trials if t.strip()), pool=max(top, 50),
                            recruiting_only=recruiting_only, near=place, within_km=within_km)
    return match_patient(conn, patient, as_of, candidates)[:top]


@router.post("/match", summary="A patient in (profile, FHIR Bundle or note), ranked trials with verdicts out")
def api_match(request: Request, body: MatchRequest) -> dict:
    given = [k for k in ("profile", "fhir", "note") if getattr(body, k) is not None]
    if len(given) != 1:
        raise InputError("send exactly one of profile, fhir or note", field="patient")
    day = as_of_date(body.as_of)
    patient = read_patient(given[0], getattr(body, given[0]), day)  # type: ignore[arg-type]
    matches = run_match(conn_of(request), patient, trials=body.trials, top=body.top,
                        recruiting_only=body.recruiting_only, near=body.near, within=body.within, as_of=day)
    return {"as_of": day.isoformat(), "patient_problems": patient.problems,
            "results": [m.model_dump(mode="json") for m in matches]}


@router.get("/stats", summary="Counts of trials by status, phase, study type and source")
def api_stats(request: Request) -> Response:
    return cached_json(request, lambda: stats(conn_of(request)))


@router.post("/measures/{measure}", summary="Myositis outcome measures: tis, cdasi, mmt8, responders")
def api_measure(measure: str, body: Annotated[dict[str, Any], Body()]) -> dict:
    func = _MEASURES.get(measure)
    if func is None:
        raise InputError(f"unknown measure {measure[:40]!r}: choose from {', '.join(_MEASURES)}", field="measure",
                         status=404)
    try:
        return func(body).to_dict()
    except MeasureError as exc:
        raise InputError(str(exc), field=measure) from None
