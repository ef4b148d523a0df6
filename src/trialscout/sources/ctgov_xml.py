"""Map one legacy ClinicalTrials.gov ``<clinical_study>`` record (the AllPublicXML format) to a Trial.

The legacy XML spells enums for people ("Active, not recruiting", "Phase 1/Phase 2",
"Double (Participant, Investigator)"); everything is turned into the API v2 spelling
the model uses, so a trial read from XML compares equal to the same trial read from
JSON. Speed matters (the whole registry is ~500,000 records): the record's top level
is walked once and each section's children once, with no XPath.
"""

from __future__ import annotations

import re
import threading

from lxml import etree
from pydantic import ValidationError

from trialscout.model import (Age, Arm, Contact, DatePoint, Design, Eligibility, EventGroup, FlowGroup, Intervention,
                              Location, MeshTerm, Organization, Outcome, Reference, Results, Trial)
from trialscout.model.normalize import canonical, clean_text, enum_value, iso_date, parse_age, phases_from_text, yes_no

from .errors import RecordError

__all__ = ["parse_xml_record", "trial_from_xml", "std_ages", "RecordError"]

_EL = etree.Element  # tag filter for iterchildren(): elements only, no comments or PIs

# Elements that may repeat at the top level of <clinical_study>.
_REPEATED = frozenset({"condition", "keyword", "arm_group", "intervention", "primary_outcome", "secondary_outcome",
                       "other_outcome", "overall_official", "location", "reference", "results_reference"})
_OUTCOME_KIND = {"primary_outcome": "primary", "secondary_outcome": "secondary", "other_outcome": "other"}

# The legacy XML's date and enrollment @type values.
_TYPE = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", "Estimate": "ESTIMATED", "Estimated": "ESTIMATED"}

_MONTHS = {m: i for i, m in enumerate(("January", "February", "March", "April", "May", "June", "July", "August",
                                       "September", "October", "November", "December"), start=1)}
_XML_DATE = re.compile(r"([A-Z][a-z]+) (?:(\d{1,2}), )?(\d{4})")
_LXML_POSITION = re.compile(r",? line \d+, column \d+\s*$")

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per thread, reused.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                                                 load_dtd=False, remove_comments=True, remove_pis=True)
    return parser


def parse_xml_record(data: bytes, origin: str) -> Trial:
    """Parse one AllPublicXML record; RecordError(origin, problem) when it is not a readable one."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, getattr(exc, "offset", None))
        msg = _LXML_POSITION.sub("", exc.msg or str(exc)).strip()
        raise RecordError(origin, f"not well-formed XML: {msg} (line {line}, column {column})") from None
    except (ValueError, TypeError) as exc:  # e.g. str instead of bytes, empty input
        raise RecordError(origin, f"not well-formed XML: {exc}") from None
    return trial_from_xml(root, origin=origin)


def trial_from_xml(root: etree._Element, origin: str = "<xml>") -> Trial:
    """Map a parsed ``<clinical_study>`` element; RecordError when it is not one or has no NCT id."""
    if root.tag != "clinical_study":
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise RecordError(origin, f"not a clinical_study record: root element is <{tag}>")
    try:
        return _map(root, origin)
    except RecordError:
        raise
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        raise RecordError(origin, f"cannot read record: {str(exc).splitlines()[0]}") from None


# --- small readers -----------------------------------------------------------


def _s(el: etree._Element | None) -> str | None:
    """The element's text, stripped; None when absent or blank."""
    if el is None:
        return None
    text = el.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _long(text: str | None) -> str | None:
    """Free text that may span lines (descriptions, why_stopped): CRLFs and indentation cleaned."""
    if text is None:
        return None
    if "\n" in text or "\r" in text:
        return clean_text(text)
    return text.strip() or None


def _block(el: etree._Element | None) -> str | None:
    """A ``<x><textblock>...</textblock></x>`` text block."""
    if el is None:
        return None
    return clean_text(el.findtext("textblock"))


def _iso(text: str) -> str | None:
    """'December 17, 2007' -> '2007-12-17', 'May 1990' -> '1990-05' (fast path; iso_date otherwise)."""
    m = _XML_DATE.fullmatch(text)
    if m:
        month = _MONTHS.get(m[1])
        if month:
            day = m[2]
            if day is None:
                return f"{m[3]}-{month:02d}"
            if 1 <= int(day) <= 28:
                return f"{m[3]}-{month:02d}-{int(day):02d}"
    return iso_date(text)  # validates days 29-31, other spellings


def _type(value: str | None) -> str | None:
    if value is None:
        return None
    return _TYPE.get(value.strip()) or enum_value(value)


def _date(el: etree._Element | None) -> DatePoint | None:
    text = _s(el)
    if text is None:
        return None
    iso = _iso(text)
    if iso is None:
        return None
    return DatePoint(date=iso, type=_type(el.get("type")))  # type: ignore[union-attr]


def _texts(el: etree._Element) -> dict[str, str | None]:
    """Leaf children by tag (the last of a repeated tag wins)."""
    return {c.tag: _s(c) for c in el.iterchildren(_EL)}


def _person(f: dict[str, str | None]) -> str | None:
    # AllPublicXML puts the whole name in last_name; the schema also allows first/middle/degrees.
    parts = [p for p in (f.get("first_name"), f.get("middle_name"), f.get("last_name")) if p]
    name = " ".join(parts) or None
    degrees = f.get("degrees")
    if degrees:
        name = f"{name}, {degrees}" if name else degrees
    return name


def _contact(el: etree._Element, role: str | None) -> Contact:
    f = _texts(el)
    return Contact(name=_person(f), role=role, phone=f.get("phone"), phone_ext=f.get("phone_ext"),
                   email=f.get("email"))


def _org(el: etree._Element) -> Organization | None:
    f = _texts(el)
    name = f.get("agency")
    return Organization(name=name, cls=canonical("agency_class", f.get("agency_class"))) if name else None


def _masking(text: str | None) -> tuple[str | None, list[str]]:
    """'Double (Participant, Investigator)' -> ('DOUBLE', ['PARTICIPANT', 'INVESTIGATOR']); 'None (Open Label)' -> ('NONE', [])."""
    if not text:
        return None, []
    head, paren, rest = text.partition("(")
    masking = canonical("masking", head)
    if masking == "NONE" or not paren:
        return masking, []
    return masking, [r for r in (enum_value(part) for part in rest.rstrip(") ").split(",")) if r]


def _mesh(el: etree._Element | None) -> list[MeshTerm]:
    if el is None:
        return []
    return [MeshTerm(term=t) for t in (_s(m) for m in el.iterchildren("mesh_term")) if t]


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


# Standard age groups as ClinicalTrials.gov derives them: child 0-17, adult 18-64, older adult 65+.
def std_ages(minimum: Age | None, maximum: Age | None) -> list[str]:
    """The groups the trial's age range overlaps; an absent bound is open."""
    low = minimum.years if minimum else 0.0
    high = maximum.years if maximum else float("inf")
    groups = []
    if low < 18:
        groups.append("CHILD")
    if low < 65 and high >= 18:
        groups.append("ADULT")
    if high >= 65:
        groups.append("OLDER_ADULT")
    return groups


# --- sections -----------------------------------------------------------------


def _eligibility(el: etree._Element) -> Eligibility:
    criteria = gender = gender_based = min_age = max_age = healthy = population = None
    for c in el.iterchildren(_EL):
        tag = c.tag
        if tag == "criteria":
            criteria = _block(c)
        elif tag == "gender":
            gender = canonical("sex", c.text)
        elif tag == "gender_based":
            gender_based = yes_no(c.text)
        elif tag == "minimum_age":
            min_age = parse_age(c.text)
        elif tag == "maximum_age":
            max_age = parse_age(c.text)
        elif tag == "healthy_volunteers":
            healthy = yes_no(c.text)
        elif tag == "study_pop":
            population = _block(c)
    return Eligibility(criteria=criteria, sex=gender, gender_based=gender_based, minimum_age=min_age,
                       maximum_age=max_age, std_ages=std_ages(min_age, max_age), healthy_volunteers=healthy,
                       study_population=population)


def _patient_registry(study_type: str | None) -> bool | None:
    # Legacy XML folds the registry flag into the type: "Observational [Patient Registry]".
    if not study_type or not study_type.lower().startswith("observational"):
        return None
    return "patient registry" in study_type.lower()


def _design(el: etree._Element) -> Design:
    f = _texts(el)
    masking, who = _masking(f.get("masking"))
    return Design(allocation=canonical("allocation", f.get("allocation")),
                  intervention_model=canonical("model", f.get("intervention_model")),
                  primary_purpose=canonical("purpose", f.get("primary_purpose")),
                  masking=masking, who_masked=who,
                  observational_model=enum_value(f.get("observational_model")),
                  time_perspective=enum_value(f.get("time_perspective")))


_PLACE = frozenset({"name", "city", "state", "zip", "country", "status"})
_PEOPLE = frozenset({"contact", "contact_backup", "investigator"})


def _location(el: etree._Element) -> Location:
    # One walk over the whole subtree (document order) is ~3x faster than stepping
    # facility -> address -> fields; <name>, <city>... occur nowhere else in a location.
    f: dict[str, str] = {}
    people: list[etree._Element] = []
    for c in el.iter():
        tag = c.tag
        if tag in _PLACE:
            text = c.text
            if text is not None and (text := text.strip()):
                f[tag] = text
        elif tag in _PEOPLE:
            people.append(c)
    contacts: list[Contact] = []
    if people:
        investigators = []
        for c in people:
            if c.tag == "investigator":
                p = _texts(c)
                investigators.append(Contact(name=_person(p), role=enum_value(p.get("role"))))
            else:
                contacts.append(_contact(c, "CONTACT"))
        contacts += investigators
    get = f.get
    return Location(facility=get("name"), city=get("city"), state=get("state"), zip=get("zip"),
                    country=get("country"), status=canonical("status", get("status")), contacts=contacts)


def _intervention(el: etree._Element) -> tuple[Intervention | None, str | None]:
    name = kind = description = None
    other_names: list[str] = []
    arm_labels: list[str] = []
    for c in el.iterchildren(_EL):
        tag = c.tag
        if tag == "intervention_name":
            name = _s(c)
        elif tag == "intervention_type":
            kind = _s(c)
        elif tag == "description":
            description = _long(c.text)
        elif tag == "other_name":
            if (v := _s(c)) is not None:
                other_names.append(v)
        elif tag == "arm_group_label":
            if (v := _s(c)) is not None:
                arm_labels.append(v)
    if name is None:
        return None, None
    display = f"{kind}: {name}" if kind else name  # API v2 arm groups list "Drug: Gamma Globulin"
    return Intervention(name=name, type=enum_value(kind), description=description, other_names=other_names,
                        arm_labels=arm_labels), display


def _groups(el: etree._Element | None) -> dict[str, str]:
    """group_list/group @group_id -> title, in order."""
    if el is None:
        return {}
    return {g.get("group_id"): (g.findtext("title") or "").strip() or g.get("group_id")
            for g in el.iterchildren("group")}


def _milestone(period: etree._Element | None, title: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    if period is None:
        return counts
    stones = period.find("milestone_list")
    if stones is None:
        return counts
    for stone in stones.iterchildren("milestone"):
        if (stone.findtext("title") or "").strip() != title:
            continue
        plist = stone.find("participants_list")
        if plist is None:
            continue
        for p in plist.iterchildren("participants"):
            gid, n = p.get("group_id"), _int(p.get("count"))
            if gid and n is not None:
                counts[gid] = counts.get(gid, 0) + n
    return counts


def _event_totals(events: etree._Element | None) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """The "Total" category of serious_events / other_events: {sub_title kind: {group: (affected, at risk)}}.

    The Total category holds "Total, serious adverse events" (or "other"), and in newer
    records also "Total, all-cause mortality" -- which must not be read as the SAE count.
    """
    out: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    if events is None:
        return out
    cats = events.find("category_list")
    if cats is None:
        return out
    for cat in cats.iterchildren("category"):
        if (cat.findtext("title") or "").strip() != "Total":
            continue
        event_list = cat.find("event_list")
        if event_list is None:
            break
        for event in event_list.iterchildren("event"):
            sub = (event.findtext("sub_title") or "").lower()
            kind = "deaths" if "mortality" in sub or "death" in sub else "total"
            out[kind] = {c.get("group_id"): (_int(c.get("subjects_affected")), _int(c.get("subjects_at_risk")))
                         for c in event.iterchildren("counts")}
        break
    return out


def _results(el: etree._Element | None, first_posted: DatePoint | None) -> Results | None:
    if el is None:
        return Results(first_posted=first_posted.date) if first_posted else None
    flow_groups: list[FlowGroup] = []
    event_groups: list[EventGroup] = []
    primary: list[str] = []
    for section in el.iterchildren(_EL):
        tag = section.tag
        if tag == "participant_flow":
            groups = _groups(section.find("group_list"))
            period_list = section.find("period_list")
            periods = list(period_list.iterchildren("period")) if period_list is not None else []
            started = _milestone(periods[0] if periods else None, "STARTED")
            completed = _milestone(periods[-1] if periods else None, "COMPLETED")
            flow_groups = [FlowGroup(title=title, started=started.get(gid), completed=completed.get(gid))
                           for gid, title in groups.items()]
        elif tag == "reported_events":
            groups = _groups(section.find("group_list"))
            serious = _event_totals(section.find("serious_events"))
            other = _event_totals(section.find("other_events"))
            deaths = serious.get("deaths") or other.get("deaths") or {}
            serious_total, other_total = serious.get("total", {}), other.get("total", {})
            for gid, title in groups.items():
                s_aff, s_risk = serious_total.get(gid, (None, None))
                o_aff, o_risk = other_total.get(gid, (None, None))
                event_groups.append(EventGroup(title=title, serious_affected=s_aff, serious_at_risk=s_risk,
                                               other_affected=o_aff, other_at_risk=o_risk,
                                               deaths_affected=deaths.get(gid, (None, None))[0]))
        elif tag == "outcome_list":
            for outcome in section.iterchildren("outcome"):
                if (outcome.findtext("type") or "").strip() == "Primary":
                    title = (outcome.findtext("title") or "").strip()
                    if title:
                        primary.append(title)
    return Results(first_posted=first_posted.date if first_posted else None, participant_flow=flow_groups,
                   adverse_events=event_groups, primary_outcome_titles=primary)


# --- the record ---------------------------------------------------------------


def _map(root: etree._Element, origin: str) -> Trial:
    one: dict[str, etree._Element] = {}
    many: dict[str, list[etree._Element]] = {}
    for el in root.iterchildren(_EL):
        tag = el.tag
        if tag in _REPEATED:
            many.setdefault(tag, []).append(el)
        else:
            one[tag] = el
    get = one.get
    none: list[etree._Element] = []

    nct_id = org_study_id = None
    secondary_ids: list[str] = []
    aliases: list[str] = []
    ids = get("id_info")
    if ids is not None:
        for c in ids.iterchildren(_EL):
            tag, value = c.tag, _s(c)
            if value is None:
                continue
            if tag == "nct_id":
                nct_id = value
            elif tag == "org_study_id":
                org_study_id = value
            elif tag == "secondary_id":
                secondary_ids.append(value)
            elif tag == "nct_alias":
                aliases.append(value)
    if not nct_id:
        raise RecordError(origin, "missing required field id_info/nct_id")

    lead_sponsor = None
    collaborators: list[Organization] = []
    sponsors = get("sponsors")
    if sponsors is not None:
        for c in sponsors.iterchildren(_EL):
            org = _org(c)
            if org is None:
                continue
            if c.tag == "lead_sponsor":
                lead_sponsor = org
            elif c.tag == "collaborator":
                collaborators.append(org)

    officials = []
    for el in many.get("overall_official", none):
        f = _texts(el)
        officials.append(Contact(name=_person(f), role=enum_value(f.get("role")), affiliation=f.get("affiliation")))
    central = [_contact(el, "CONTACT") for el in (get("overall_contact"), get("overall_contact_backup"))
               if el is not None]

    interventions: list[Intervention] = []
    by_arm: dict[str, list[str]] = {}
    for el in many.get("intervention", none):
        intervention, display = _intervention(el)
        if intervention is None:
            continue
        interventions.append(intervention)
        for label in intervention.arm_labels:
            by_arm.setdefault(label, []).append(display)  # type: ignore[arg-type]

    arms = []
    for el in many.get("arm_group", none):
        f = {c.tag: c for c in el.iterchildren(_EL)}
        label = _s(f.get("arm_group_label"))
        if label is None:
            continue
        desc = f.get("description")
        arms.append(Arm(label=label, type=canonical("arm_type", _s(f.get("arm_group_type"))),
                        description=_long(desc.text) if desc is not None else None,
                        interventions=by_arm.get(label, [])))

    outcomes = []
    for tag, kind in _OUTCOME_KIND.items():
        for el in many.get(tag, none):
            f = {c.tag: c for c in el.iterchildren(_EL)}
            measure = _s(f.get("measure"))
            if measure is None:
                continue
            desc = f.get("description")
            outcomes.append(Outcome(kind=kind, measure=measure, time_frame=_s(f.get("time_frame")),
                                    description=_long(desc.text) if desc is not None else None))

    references = []
    for tag, kind in (("reference", "BACKGROUND"), ("results_reference", "RESULT")):
        for el in many.get(tag, none):
            f = {c.tag: c.text for c in el.iterchildren(_EL)}
            pmid = f.get("PMID")
            references.append(Reference(citation=_long(f.get("citation")), pmid=(pmid.strip() or None) if pmid else None,
                                        type=kind))

    enrollment = get("enrollment")
    design = get("study_design_info")
    eligibility = get("eligibility")
    why_stopped = get("why_stopped")
    clinical_results = get("clinical_results")

    return Trial(
        id=nct_id,
        nct_id=nct_id,
        org_study_id=org_study_id,
        secondary_ids=secondary_ids,
        aliases=aliases,
        source="ctgov-xml",
        brief_title=_s(get("brief_title")),
        official_title=_s(get("official_title")),
        acronym=_s(get("acronym")),
        overall_status=canonical("status", _s(get("overall_status"))),
        last_known_status=canonical("status", _s(get("last_known_status"))),
        why_stopped=_long(why_stopped.text) if why_stopped is not None else None,
        start_date=_date(get("start_date")),
        primary_completion_date=_date(get("primary_completion_date")),
        completion_date=_date(get("completion_date")),
        first_posted=_date(get("study_first_posted")),
        last_update_posted=_date(get("last_update_posted")),
        lead_sponsor=lead_sponsor,
        collaborators=collaborators,
        officials=officials,
        central_contacts=central,
        brief_summary=_block(get("brief_summary")),
        detailed_description=_block(get("detailed_description")),
        conditions=[v for el in many.get("condition", none) if (v := _s(el)) is not None],
        keywords=[v for el in many.get("keyword", none) if (v := _s(el)) is not None],
        condition_mesh=_mesh(get("condition_browse")),
        intervention_mesh=_mesh(get("intervention_browse")),
        study_type=canonical("study_type", _s(get("study_type"))),
        patient_registry=_patient_registry(_s(get("study_type"))),
        phases=phases_from_text(_s(get("phase"))),
        design=_design(design) if design is not None else None,
        enrollment=_int(enrollment.text) if enrollment is not None else None,
        enrollment_type=_type(enrollment.get("type")) if enrollment is not None else None,
        arms=arms,
        interventions=interventions,
        outcomes=outcomes,
        eligibility=_eligibility(eligibility) if eligibility is not None else None,
        locations=[_location(el) for el in many.get("location", none)],
        references=references,
        has_results=clinical_results is not None,
        results=_results(clinical_results, _date(get("results_first_posted"))),
    )
