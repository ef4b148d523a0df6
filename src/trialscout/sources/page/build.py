"""Assembling a Trial from a page's sections, and reading a page file (the package's entry points).

Every field is read by the module that knows its shape; this module only wires them together,
decides whether the text is a trial page at all (an id, criteria, or at least two trial fields),
and reports anything the model refuses as a RecordError, as the other sources do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trialscout.model import Arm, DatePoint, Organization, Trial

from ..ctgov_json import stable_id
from ..errors import RecordError
from ..placing import place_sites
from .dates import parse_date
from .design import read_arms, read_design, read_interventions, read_outcomes
from .eligibility import read_eligibility
from .ids import find_nct_id, find_registry_ids
from .lines import MAX_CHARS, Line, is_sentence, prepare, read_lines
from .people import read_contacts
from .sections import Section, collect, first_prose, first_value, list_items, split_sections, value_texts
from .sites import read_locations
from .title import find_title
from .values import parse_enrollment, parse_phases, parse_status, parse_study_type, type_word
from .vocab import vocabulary

if TYPE_CHECKING:  # readers.py may import this package to wire pages in; avoid the cycle at run time
    from ..readers import Item

SOURCE = "page"


def _name(text: str) -> str | None:
    return None if is_sentence(text) or text.endswith("?") else text.strip()


def _date_point(sections: list[Section], name: str) -> DatePoint | None:
    value, section = first_value(sections, name, parse_date)
    if value is None:
        return None
    texts = value_texts(section, 1)
    return DatePoint(date=value, type=section.qualifier or (type_word(texts[0]) if texts else None))


def _sponsor(sections: list[Section]) -> Organization | None:
    for name in ("lead_sponsor", "organization"):
        for section in sections:
            if section.name != name:
                continue
            texts = [t for t in value_texts(section, 6) if _name(t)]
            if texts:
                following = texts[1] if len(texts) > 1 else ""
                cls = following if following in vocabulary().enums["sponsor_class"] else None
                return Organization(name=texts[0], cls=cls)
    return None


def trial_from_page(text: str, origin: str) -> Trial:
    """A Trial (source 'page') from a copied web page; RecordError when the text holds no trial."""
    lines = read_lines(prepare(text, origin))
    try:
        return _trial(lines, origin)
    except RecordError:
        raise
    except (ValueError, TypeError) as exc:  # a value the model refuses: report it, as other sources do
        raise RecordError(origin, f"cannot read page: {str(exc).splitlines()[0]}") from None


def _trial(lines: list[Line], origin: str) -> Trial:
    sections = split_sections(lines)

    title = find_title(sections, lines)
    official = first_value(sections, "official_title", _name)[0]
    acronym = first_value(sections, "acronym", _name)[0]
    nct = find_nct_id(sections, title or official)
    registry, org = find_registry_ids(sections)

    arms: list[Arm] = []
    interventions = collect(sections, "interventions", lambda s: read_interventions(s, arms))
    for arm in collect(sections, "arms", read_arms):
        if arm not in arms:
            arms.append(arm)
    eligibility, eligibility_fields = read_eligibility(sections)
    enrollment, enrollment_section = first_value(sections, "enrollment", lambda t: parse_enrollment(t)[0])
    locations = collect(sections, "locations", read_locations)
    site_contacts = collect(sections, "site_contacts", read_contacts)
    if len(locations) == 1:
        locations[0].contacts += site_contacts  # with several sites, whose contacts these are is unknown
    outcomes = [o for kind in ("primary", "secondary", "other")
                for o in collect(sections, f"{kind}_outcomes", lambda s, k=kind: read_outcomes(s, k))]
    fields = {
        "overall_status": first_value(sections, "overall_status", parse_status)[0],
        "phases": first_value(sections, "phases", parse_phases)[0] or [],
        "study_type": first_value(sections, "study_type", parse_study_type)[0],
        "lead_sponsor": _sponsor(sections),
        "start_date": _date_point(sections, "start_date"),
        "primary_completion_date": _date_point(sections, "primary_completion_date"),
        "completion_date": _date_point(sections, "completion_date"),
        "conditions": collect(sections, "conditions", list_items),
        "design": read_design(sections),
    }

    evidence = eligibility_fields + sum(bool(v) for v in (*fields.values(), enrollment, interventions, locations,
                                                          outcomes, arms))
    if not (nct or registry or (eligibility and eligibility.criteria) or evidence >= 2):
        raise RecordError(origin, "not a trial page: no trial id, eligibility criteria or trial fields "
                                  "(status, phase, enrollment, sponsor, dates...) found")
    own_id = nct or (registry[0] if registry else None)
    seed_title = title or official or acronym or (eligibility.criteria if eligibility else None) \
        or " ".join(line.text for line in lines if line.text)[:2000]
    return Trial(
        id=stable_id(own_id, {"orgStudyIdInfo": {"id": org}, "acronym": acronym}, seed_title),
        nct_id=nct,
        org_study_id=org,
        secondary_ids=[i for i in registry if i != own_id],
        source=SOURCE,
        brief_title=title,
        official_title=official,
        acronym=acronym,
        first_posted=_date_point(sections, "first_posted"),
        last_update_posted=_date_point(sections, "last_update_posted"),
        collaborators=[Organization(name=n) for n in collect(sections, "collaborators", list_items)],
        officials=collect(sections, "officials", read_contacts),
        central_contacts=collect(sections, "central_contacts", read_contacts),
        brief_summary=first_prose(sections, "brief_summary"),
        detailed_description=first_prose(sections, "detailed_description"),
        keywords=collect(sections, "keywords", list_items),
        enrollment=enrollment,
        enrollment_type=(enrollment_section.qualifier or type_word(" ".join(value_texts(enrollment_section, 1))))
        if enrollment_section else None,
        arms=arms,
        interventions=interventions,
        outcomes=outcomes,
        eligibility=eligibility,
        locations=locations,
        **fields,
    )


def read_page(path: Path) -> Item:
    """A copied page file as a Trial, or the RecordError saying why not (for `ingest --from-text`)."""
    origin = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_CHARS * 4:
            return RecordError(origin, f"too large for a page: {size:,} bytes")
        data = Path(path).read_bytes()
    except OSError as exc:
        return RecordError(origin, f"cannot read file: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return RecordError(origin, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
                                   "(save the page as UTF-8 text)")
    try:
        return place_sites(trial_from_page(text, origin))
    except RecordError as exc:
        return exc
