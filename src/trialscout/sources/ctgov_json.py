"""Map one ClinicalTrials.gov API v2 study (a ``{"protocolSection": ...}`` dict) to a Trial."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import ValidationError

from trialscout.model import (Arm, Contact, DatePoint, Design, Eligibility, EventGroup, FlowGroup, Intervention,
                              Location, MeshTerm, Organization, Outcome, Reference, Results, Trial, is_nct_id)
from trialscout.model.normalize import canonical, clean_text, parse_age

from .errors import RecordError

# API v2 text is Markdown: "\>25 pg/mL" means ">25 pg/mL".
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>~|=^])")

Json = dict[str, Any]


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return clean_text(_MD_ESCAPE.sub(r"\1", value))


def _str(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> list[str]:
    return [s for s in (_str(v) for v in _list(value)) if s]


def _date(struct: Any) -> DatePoint | None:
    if isinstance(struct, str):
        struct = {"date": struct}
    if not isinstance(struct, dict) or not _str(struct.get("date")):
        return None
    return DatePoint(date=_str(struct["date"]), type=_str(struct.get("type")))


def _org(value: Any) -> Organization | None:
    if not isinstance(value, dict):
        return None
    name = _str(value.get("name") or value.get("fullName"))
    return Organization(name=name, cls=_str(value.get("class"))) if name else None


def _contact(value: Json) -> Contact:
    return Contact(name=_str(value.get("name")), role=_str(value.get("role")), phone=_str(value.get("phone")),
                   phone_ext=_str(value.get("phoneExt")), email=_str(value.get("email")),
                   affiliation=_str(value.get("affiliation")))


def _mesh(module: Json, key: str) -> list[MeshTerm]:
    return [MeshTerm(term=t, id=_str(m.get("id"))) for m in _list(module.get(key))
            if isinstance(m, dict) and (t := _str(m.get("term")))]


def _location(value: Json) -> Location:
    geo = value.get("geoPoint") if isinstance(value.get("geoPoint"), dict) else {}
    lat, lon = geo.get("lat"), geo.get("lon")
    has_point = isinstance(lat, (int, float)) and isinstance(lon, (int, float))
    return Location(facility=_str(value.get("facility")), city=_str(value.get("city")),
                    state=_str(value.get("state")), zip=_str(value.get("zip")), country=_str(value.get("country")),
                    status=_str(value.get("status")),
                    contacts=[_contact(c) for c in _list(value.get("contacts")) if isinstance(c, dict)],
                    lat=float(lat) if has_point else None, lon=float(lon) if has_point else None,
                    geo_source="record" if has_point else None)


def _results(section: Json) -> Results:
    flow = section.get("participantFlowModule") or {}
    groups = {g.get("id"): _str(g.get("title")) or g.get("id") for g in _list(flow.get("groups"))
              if isinstance(g, dict)}
    periods = [p for p in _list(flow.get("periods")) if isinstance(p, dict)]

    def milestone(period: Json | None, kind: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stone in _list((period or {}).get("milestones")):
            if stone.get("type") == kind:
                for a in _list(stone.get("achievements")):
                    num = a.get("numSubjects")
                    if a.get("groupId") and str(num).isdigit():
                        counts[a["groupId"]] = counts.get(a["groupId"], 0) + int(num)
        return counts

    started = milestone(periods[0] if periods else None, "STARTED")
    completed = milestone(periods[-1] if periods else None, "COMPLETED")
    flow_groups = [FlowGroup(title=title, started=started.get(gid), completed=completed.get(gid))
                   for gid, title in groups.items()]

    events = section.get("adverseEventsModule") or {}
    event_groups = [EventGroup(title=_str(g.get("title")) or str(g.get("id")),
                               serious_affected=g.get("seriousNumAffected"), serious_at_risk=g.get("seriousNumAtRisk"),
                               other_affected=g.get("otherNumAffected"), other_at_risk=g.get("otherNumAtRisk"),
                               deaths_affected=g.get("deathsNumAffected"))
                    for g in _list(events.get("eventGroups")) if isinstance(g, dict)]
    outcomes = (section.get("outcomeMeasuresModule") or {}).get("outcomeMeasures")
    primary = [t for o in _list(outcomes) if isinstance(o, dict) and o.get("type") == "PRIMARY"
               and (t := _str(o.get("title")))]
    return Results(participant_flow=flow_groups, adverse_events=event_groups, primary_outcome_titles=primary)


def stable_id(nct_id: str | None, ident: Json, title: str | None) -> str:
    """The NCT id when there is one; else the record's own id, else a hash of what identifies it.

    Records from other registries or pasted pages carry no NCT id but must keep the
    same id on every ingest, so re-ingesting them updates rather than duplicates.
    """
    if nct_id and is_nct_id(nct_id):
        return nct_id
    if nct_id:
        return nct_id
    org = (ident.get("orgStudyIdInfo") or {}).get("id")
    seed = "|".join(str(x) for x in (org, title, ident.get("acronym")) if x)
    if not seed:
        raise ValueError("no id, org study id or title to identify the record by")
    return "TS-" + hashlib.sha1(seed.encode()).hexdigest()[:12].upper()


def trial_from_json(study: Json, origin: str = "<json>") -> Trial:
    """Map an API v2 study; raises RecordError naming the origin when it is not one."""
    if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
        raise RecordError(origin, "not an API v2 study: no protocolSection object")
    try:
        return _map(study)
    except (ValueError, TypeError, AttributeError, ValidationError) as exc:
        raise RecordError(origin, f"cannot read record: {str(exc).splitlines()[0]}") from None


def _map(study: Json) -> Trial:
    p = study["protocolSection"]
    mod = lambda name: p.get(name) if isinstance(p.get(name), dict) else {}  # noqa: E731
    ident, status, sponsors = mod("identificationModule"), mod("statusModule"), mod("sponsorCollaboratorsModule")
    desc, conds, design = mod("descriptionModule"), mod("conditionsModule"), mod("designModule")
    arms_mod, outcomes_mod, elig = mod("armsInterventionsModule"), mod("outcomesModule"), mod("eligibilityModule")
    contacts, refs = mod("contactsLocationsModule"), mod("referencesModule")
    derived = study.get("derivedSection") if isinstance(study.get("derivedSection"), dict) else {}
    cond_browse = derived.get("conditionBrowseModule") or {}
    intr_browse = derived.get("interventionBrowseModule") or {}

    raw_id = _str(ident.get("nctId"))
    nct_id = raw_id if is_nct_id(raw_id) else None
    brief_title = _str(ident.get("briefTitle"))
    design_info = design.get("designInfo") or {}
    masking = design_info.get("maskingInfo") or {}
    enrollment = design.get("enrollmentInfo") or {}
    count = enrollment.get("count")

    outcomes = [Outcome(kind=kind, measure=m, description=_text(o.get("description")),
                        time_frame=_str(o.get("timeFrame")))
                for kind in ("primary", "secondary", "other")
                for o in _list(outcomes_mod.get(f"{kind}Outcomes"))
                if isinstance(o, dict) and (m := _str(o.get("measure")))]

    eligibility = None
    if elig:
        hv = elig.get("healthyVolunteers")
        eligibility = Eligibility(
            criteria=_text(elig.get("eligibilityCriteria")), sex=canonical("sex", elig.get("sex")),
            gender_based=elig.get("genderBased") if isinstance(elig.get("genderBased"), bool) else None,
            minimum_age=parse_age(elig.get("minimumAge")), maximum_age=parse_age(elig.get("maximumAge")),
            std_ages=_strs(elig.get("stdAges")), healthy_volunteers=hv if isinstance(hv, bool) else None,
            study_population=_text(elig.get("studyPopulation")))

    has_results = study.get("hasResults")
    results_section = study.get("resultsSection")
    results = _results(results_section) if isinstance(results_section, dict) else None
    if results is not None:
        first = _date(status.get("resultsFirstPostDateStruct"))
        results.first_posted = first.date if first else None

    return Trial(
        id=stable_id(raw_id, ident, brief_title),
        nct_id=nct_id,
        org_study_id=_str((ident.get("orgStudyIdInfo") or {}).get("id")),
        secondary_ids=[s for i in _list(ident.get("secondaryIdInfos")) if (s := _str(i.get("id")))],
        aliases=_strs(ident.get("nctIdAliases")),
        source="ctgov-json",
        brief_title=brief_title,
        official_title=_str(ident.get("officialTitle")),
        acronym=_str(ident.get("acronym")),
        overall_status=canonical("status", status.get("overallStatus")),
        last_known_status=canonical("status", status.get("lastKnownStatus")),
        why_stopped=_str(status.get("whyStopped")),
        start_date=_date(status.get("startDateStruct")),
        primary_completion_date=_date(status.get("primaryCompletionDateStruct")),
        completion_date=_date(status.get("completionDateStruct")),
        first_posted=_date(status.get("studyFirstPostDateStruct")),
        last_update_posted=_date(status.get("lastUpdatePostDateStruct")),
        lead_sponsor=_org(sponsors.get("leadSponsor")) or _org(ident.get("organization")),
        collaborators=[o for c in _list(sponsors.get("collaborators")) if (o := _org(c))],
        officials=[_contact(c) for c in _list(contacts.get("overallOfficials")) if isinstance(c, dict)],
        central_contacts=[_contact(c) for c in _list(contacts.get("centralContacts")) if isinstance(c, dict)],
        brief_summary=_text(desc.get("briefSummary")),
        detailed_description=_text(desc.get("detailedDescription")),
        conditions=_strs(conds.get("conditions")),
        keywords=_strs(conds.get("keywords")),
        condition_mesh=_mesh(cond_browse, "meshes"),
        condition_mesh_ancestors=_mesh(cond_browse, "ancestors"),
        intervention_mesh=_mesh(intr_browse, "meshes"),
        intervention_mesh_ancestors=_mesh(intr_browse, "ancestors"),
        study_type=canonical("study_type", design.get("studyType")),
        patient_registry=design.get("patientRegistry") if isinstance(design.get("patientRegistry"), bool) else None,
        phases=_strs(design.get("phases")),
        design=Design(allocation=_str(design_info.get("allocation")),
                      intervention_model=_str(design_info.get("interventionModel")),
                      primary_purpose=_str(design_info.get("primaryPurpose")),
                      masking=_str(masking.get("masking")), who_masked=_strs(masking.get("whoMasked")),
                      observational_model=_str(design_info.get("observationalModel")),
                      time_perspective=_str(design_info.get("timePerspective"))) if design_info else None,
        enrollment=int(count) if isinstance(count, (int, float)) or str(count).isdigit() else None,
        enrollment_type=_str(enrollment.get("type")),
        arms=[Arm(label=label, type=_str(a.get("type")), description=_text(a.get("description")),
                  interventions=_strs(a.get("interventionNames")))
              for a in _list(arms_mod.get("armGroups")) if isinstance(a, dict) and (label := _str(a.get("label")))],
        interventions=[Intervention(name=name, type=_str(i.get("type")), description=_text(i.get("description")),
                                    other_names=_strs(i.get("otherNames")), arm_labels=_strs(i.get("armGroupLabels")))
                       for i in _list(arms_mod.get("interventions"))
                       if isinstance(i, dict) and (name := _str(i.get("name")))],
        outcomes=outcomes,
        eligibility=eligibility,
        locations=[_location(loc) for loc in _list(contacts.get("locations")) if isinstance(loc, dict)],
        references=[Reference(citation=_str(r.get("citation")), pmid=_str(r.get("pmid")), type=_str(r.get("type")))
                    for r in _list(refs.get("references")) if isinstance(r, dict)],
        has_results=has_results if isinstance(has_results, bool) else None,
        results=results,
    )
