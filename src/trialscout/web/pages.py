"""The HTML pages: search, trial, "Am I a good fit?", match a patient, dermatomyositis tools.

Server-rendered; every state of a search is in its URL so it can be shared. Form answers and uploads
are POSTed (never in a URL, so never in a log) and forgotten after the response.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from trialscout.geo import resolve_place
from trialscout.measures import MeasureError, compute_tis
from trialscout.model.vocab import allowed
from trialscout.patients import PatientInputError, patient_from_bytes
from trialscout.store import search, sponsor_summary

from .api import MAX_NOTE, as_of_date, conn_of, criteria_of, read_patient, run_match, trial_or_404
from .errors import InputError
from .present import age_range, key_facts, schedule, sex_label, similar_trials, sites, status_label, wording
from .query import parse_search
from .questionnaire import check_fit, questions_for
from .render import templates

router = APIRouter(include_in_schema=False)

_FILTERS = {"status": ["RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING",
                       "COMPLETED"],
            "phase": ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"],
            "intervention_type": allowed("intervention_type")}
def _page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    words = wording()
    return templates.TemplateResponse(request, name, {"state_label": words["states"], "verdicts": words["verdicts"],
                                                      **context}, status_code=status)


def _cached_page(request: Request, build) -> HTMLResponse:
    """A GET page that depends only on its URL and the store: rendered once, then served from memory.
    Error pages are not kept."""
    response: list[HTMLResponse] = []

    def render() -> bytes:
        response.append(build())
        if response[0].status_code != 200:
            raise _NotCached
        return response[0].body

    try:
        return HTMLResponse(request.app.state.cache.get(f"html {request.url.path}?{request.url.query}", render))
    except _NotCached:
        return response[0]


class _NotCached(Exception):
    pass


def _params(request: Request) -> dict[str, list[str]]:
    return {k: request.query_params.getlist(k) for k in request.query_params.keys()}


def _url(params: dict[str, list[str]], **change) -> str:
    pairs = [(k, v) for k, vs in params.items() if k not in change for v in vs if v]
    pairs += [(k, str(v)) for k, v in change.items() if v not in (None, "")]
    return "/search?" + urlencode(pairs)


@router.get("/", response_class=HTMLResponse)
@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    return _cached_page(request, lambda: _search_page(request))


def _search_page(request: Request) -> HTMLResponse:
    raw = _params(request)
    context = {"raw": raw, "filters": _FILTERS, "result": None, "error": None, "pages": None}
    try:
        params = parse_search(raw)
    except InputError as exc:
        return _page(request, "search.html", {**context, "error": exc}, status=400)
    result = search(conn_of(request), params.q, params.filters, limit=params.per_page, offset=params.offset,
                    facets=True)
    last = max(1, math.ceil(result.total / params.per_page))
    pages = {"page": params.page, "last": last,
             "prev": _url(raw, page=params.page - 1) if params.page > 1 else None,
             "next": _url(raw, page=params.page + 1) if params.page < last else None}
    return _page(request, "search.html", {**context, "params": params, "result": result, "pages": pages})


def _trial_context(request: Request, trial_id: str) -> dict:
    conn = conn_of(request)
    trial = trial_or_404(conn, trial_id)
    near = (request.query_params.get("near") or "").strip()[:200]
    place, place_error = None, None
    if near:
        try:
            place = resolve_place(near)
        except ValueError as exc:
            place_error = str(exc)
    criteria = criteria_of(conn, trial)
    return {"trial": trial, "criteria": criteria, "status": status_label(trial.overall_status),
            "age_range": age_range(trial), "sex_label": sex_label(trial), "badges": key_facts(trial, criteria),
            "schedule": schedule(trial), "sites": sites(trial, place), "near": near, "place_error": place_error,
            "sponsor": sponsor_summary(conn, trial.lead_sponsor.name if trial.lead_sponsor else None),
            "similar": similar_trials(conn, trial), "questions": questions_for(criteria),
            "answers": {}, "fit": None}


@router.get("/trials/{trial_id}", response_class=HTMLResponse)
def trial_page(request: Request, trial_id: str) -> HTMLResponse:
    return _cached_page(request, lambda: _page(request, "trial.html", _trial_context(request, trial_id)))


@router.post("/trials/{trial_id}/fit", response_class=HTMLResponse)
async def fit_page(request: Request, trial_id: str) -> HTMLResponse:
    form = await request.form()
    answers = {k: str(v)[:200] for k, v in form.items() if isinstance(v, str)}
    context = _trial_context(request, trial_id)
    trial = context["trial"]
    try:
        result, _ = check_fit(trial.id, trial.title, context["criteria"], answers, as_of_date(None))
    except PatientInputError as exc:
        return _page(request, "trial.html", {**context, "answers": answers, "fit_error": str(exc)}, status=400)
    return _page(request, "trial.html", {**context, "answers": answers, "fit": result})


@router.get("/match", response_class=HTMLResponse)
def match_form(request: Request) -> HTMLResponse:
    return _page(request, "match.html", {"results": None, "form": {}})


@router.post("/match", response_class=HTMLResponse)
async def match_page(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    context = {"results": None, "form": fields}
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read(MAX_NOTE + 1)
            if len(data) > MAX_NOTE:
                raise InputError(f"{upload.filename}: larger than {MAX_NOTE:,} bytes", field="file", status=413)
            try:
                patient = patient_from_bytes(data, upload.filename, as_of_date(fields.get("as_of") or None))
            except PatientInputError as exc:
                raise InputError(str(exc), field="file", status=422) from None
        elif fields.get("note", "").strip():
            patient = read_patient("note", fields["note"][:MAX_NOTE], as_of_date(fields.get("as_of") or None))
        else:
            raise InputError("paste a note or choose a file (FHIR Bundle, profile JSON/YAML or note)", field="note")
        matches = run_match(conn_of(request), patient, top=20, recruiting_only=bool(fields.get("recruiting_only")),
                            near=fields.get("near") or None, within=fields.get("within") or None,
                            as_of=as_of_date(fields.get("as_of") or None))
    except InputError as exc:
        return _page(request, "match.html", {**context, "error": exc}, status=exc.status)
    return _page(request, "match.html", {**context, "results": matches, "problems": patient.problems})


_TIS_FIELDS = ("physician_global", "patient_global", "mmt8", "haq", "enzyme", "extramuscular_global")


def _decimal(text: str) -> Decimal | str:
    """The number as written (exact, as the measures want it); anything else is passed on for the
    measure to report by field name."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return text
    return value if value.is_finite() else text


@router.get("/tools/dermatomyositis", response_class=HTMLResponse)
def tools_page(request: Request) -> HTMLResponse:
    return _page(request, "tools.html", {"fields": _TIS_FIELDS, "form": {}, "tis": None})


@router.post("/tools/dermatomyositis", response_class=HTMLResponse)
async def tools_tis(request: Request) -> HTMLResponse:
    form = {k: str(v)[:40] for k, v in (await request.form()).items() if isinstance(v, str)}
    data: dict = {"population": form.get("population") or None, "baseline": {}, "followup": {}}
    try:
        data["mmt8_scale"] = int(form["mmt8_scale"]) if form.get("mmt8_scale") else None
        for visit in ("baseline", "followup"):
            for name in _TIS_FIELDS:
                text = form.get(f"{visit}_{name}", "").strip()
                if text:
                    data[visit][name] = _decimal(text)
        data = {k: v for k, v in data.items() if v is not None}
        result = compute_tis(data)
    except (MeasureError, ValueError) as exc:
        return _page(request, "tools.html", {"fields": _TIS_FIELDS, "form": form, "tis": None, "error": str(exc)},
                     status=400)
    return _page(request, "tools.html", {"fields": _TIS_FIELDS, "form": form, "tis": result})
