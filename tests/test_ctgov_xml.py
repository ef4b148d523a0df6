"""The legacy ClinicalTrials.gov XML mapper against real AllPublicXML records."""

from __future__ import annotations

import json
import re
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from trialscout.model import (Age, Arm, Contact, DatePoint, Design, EventGroup, FlowGroup, Intervention, Location,
                              MeshTerm, Organization, Outcome, Trial)
from trialscout.sources.ctgov_xml import parse_xml_record
from trialscout.sources.errors import RecordError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ctgov"
XML_ZIP = DATA / "AllPublicXML-sample.zip"
JSON_SAMPLE = DATA / "ctg-studies-sample.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

ISO_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
STATUSES = {"COMPLETED", "UNKNOWN", "TERMINATED", "WITHDRAWN", "RECRUITING", "ACTIVE_NOT_RECRUITING", "SUSPENDED",
            "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "NO_LONGER_AVAILABLE", "APPROVED_FOR_MARKETING",
            "AVAILABLE", "TEMPORARILY_NOT_AVAILABLE", "WITHHELD"}
PHASES = {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"}
STUDY_TYPES = {"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"}
PURPOSES = {"TREATMENT", "PREVENTION", "DIAGNOSTIC", "ECT", "SUPPORTIVE_CARE", "SCREENING",
            "HEALTH_SERVICES_RESEARCH", "BASIC_SCIENCE", "DEVICE_FEASIBILITY", "OTHER"}
INTERVENTION_TYPES = {"DRUG", "BIOLOGICAL", "DEVICE", "PROCEDURE", "RADIATION", "BEHAVIORAL", "GENETIC",
                      "DIETARY_SUPPLEMENT", "COMBINATION_PRODUCT", "DIAGNOSTIC_TEST", "OTHER"}
ARM_TYPES = {"EXPERIMENTAL", "PLACEBO_COMPARATOR", "ACTIVE_COMPARATOR", "NO_INTERVENTION", "SHAM_COMPARATOR", "OTHER"}


def _zip() -> zipfile.ZipFile:
    if not XML_ZIP.exists():
        pytest.skip(f"shared sample data not found: {XML_ZIP}")
    return zipfile.ZipFile(XML_ZIP)


def _member(nct_id: str) -> str:
    return f"{nct_id[:7]}xxxx/{nct_id}.xml"


def _record(nct_id: str) -> Trial:
    with _zip() as z:
        name = _member(nct_id)
        return parse_xml_record(z.read(name), f"{XML_ZIP.name}:{name}")


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


# --- 1. the whole sample ------------------------------------------------------


def test_every_sample_record_maps_with_key_fields_populated():
    seen = Counter()
    problems: list[str] = []
    ids: set[str] = set()
    mapping = 0.0
    with _zip() as z:
        names = [n for n in z.namelist() if n.endswith(".xml")]
        for name in names:
            data = z.read(name)
            start = time.perf_counter()
            try:
                t = parse_xml_record(data, name)
            except RecordError as exc:
                problems.append(str(exc))
                continue
            mapping += time.perf_counter() - start

            assert t.source == "ctgov-xml"
            assert t.id == t.nct_id == Path(name).stem
            ids.add(t.id)
            assert t.brief_title and t.title == t.brief_title
            assert t.overall_status in STATUSES
            assert t.study_type in STUDY_TYPES
            assert set(t.phases) <= PHASES
            assert t.lead_sponsor is not None and t.lead_sponsor.name and t.lead_sponsor.cls
            assert t.first_posted is not None and t.last_update_posted is not None
            # every date element the record has is read, as ISO at the record's precision
            for tag, point in (("start_date", t.start_date), ("primary_completion_date", t.primary_completion_date),
                               ("completion_date", t.completion_date), ("study_first_posted", t.first_posted),
                               ("last_update_posted", t.last_update_posted)):
                if f"<{tag}".encode() in data:
                    assert point is not None and ISO_DATE.match(point.date), (name, tag, point)
                    assert point.type in (None, "ACTUAL", "ESTIMATED")
            if b"<enrollment" in data:
                assert isinstance(t.enrollment, int) and t.enrollment >= 0, name
                seen["enrollment"] += 1
            else:
                assert t.enrollment is None
            assert t.has_results is (b"<clinical_results>" in data)
            if t.has_results:
                seen["results"] += 1
                assert t.results is not None and t.results.first_posted and t.results.participant_flow
                assert all(g.started is not None for g in t.results.participant_flow)
            e = t.eligibility
            assert e is not None and e.sex in {"ALL", "FEMALE", "MALE"} and e.std_ages
            assert e.criteria is None or ("\r" not in e.criteria and e.criteria == e.criteria.strip())
            if e.criteria:
                seen["criteria"] += 1
            if t.design:
                assert t.design.primary_purpose in PURPOSES | {None}
            assert {i.type for i in t.interventions} <= INTERVENTION_TYPES
            assert {a.type for a in t.arms} <= ARM_TYPES | {None}
            assert all(loc.lat is None and loc.geo_source is None for loc in t.locations)
            seen["locations"] += len(t.locations)
            seen["conditions"] += bool(t.conditions)
            seen["summary"] += bool(t.brief_summary)
            seen["phased"] += bool(t.phases)

    assert problems == []
    assert len(names) == len(ids) == 6785
    # Shares as the sample has them (counted from the raw XML while surveying it).
    assert seen["summary"] == 6785
    assert seen["criteria"] == 6770
    assert seen["enrollment"] == 4919
    assert seen["results"] == 440
    assert seen["phased"] == 5365  # every interventional record states a phase (N/A -> ["NA"])
    assert seen["conditions"] >= 0.99 * 6785
    assert seen["locations"] == 75022
    # Loose guard against a pathological slowdown (typical: well under 1 ms a record).
    assert mapping / len(names) < 0.005


# --- 2. a plain old record -------------------------------------------------------


def test_nct00001261_ivig_for_inflammatory_myopathies():
    t = _record("NCT00001261")
    assert t.id == t.nct_id == "NCT00001261"
    assert t.org_study_id == "900139"
    assert t.secondary_ids == ["90-N-0139"]
    assert t.brief_title == "Intravenousimmunoglobulin (IVIg) for the Treatment of Inflammatory Myopathies"
    assert t.official_title == ("The Efficacy of High-Dose Intravenous Immunoglobulin in Patients With Inflammatory "
                                "Myopathies: A Three Month Randomized Trial With Option for Cross-Over")
    assert t.acronym is None
    assert t.overall_status == "COMPLETED"
    assert t.phases == ["PHASE2"]
    assert t.study_type == "INTERVENTIONAL"
    assert t.design == Design(primary_purpose="TREATMENT")
    assert t.conditions == ["Dermatomyositis", "Inclusion Body Myositis", "Polymyositis"]
    assert "Dermatomyositis" in t.conditions
    assert t.keywords[0] == "Polymyositis/Dermatomyositis"
    assert [m.term for m in t.condition_mesh] == ["Dermatomyositis", "Myositis", "Polymyositis",
                                                  "Myositis, Inclusion Body"]
    assert t.intervention_mesh[0] == MeshTerm(term="gamma-Globulins")
    assert t.condition_mesh_ancestors == [] and t.intervention_mesh_ancestors == []
    assert t.enrollment == 120 and t.enrollment_type is None
    assert t.lead_sponsor == Organization(name="National Institute of Neurological Disorders and Stroke (NINDS)",
                                          cls="NIH")
    assert t.collaborators == []
    assert t.start_date == DatePoint(date="1990-05")
    assert t.primary_completion_date is None
    assert t.completion_date == DatePoint(date="2002-07")
    assert t.first_posted == DatePoint(date="1999-11-04", type="ESTIMATED")
    assert t.last_update_posted == DatePoint(date="2008-03-04", type="ESTIMATED")
    assert t.last_update == "2008-03-04"
    assert t.interventions == [Intervention(name="Gamma Globulin", type="DRUG")]
    assert t.arms == []

    assert t.brief_summary.startswith("Inflammatory myopathies are a group of muscle diseases")
    assert '"inactive injection of sterile water"' in t.brief_summary and "(>15%)" in t.brief_summary
    e = t.eligibility
    assert e.criteria.startswith("INCLUSION CRITERIA:\n\nSelected patients should have PM, IBM or DM.")
    assert e.criteria.endswith("Serum IgA less than 11mg/dl.")
    assert "\r" not in e.criteria
    lines = [ln for ln in e.criteria.split("\n") if ln.strip()]
    assert min(len(ln) - len(ln.lstrip(" ")) for ln in lines) == 0
    assert all(ln == ln.rstrip() for ln in e.criteria.split("\n"))
    assert "\n  1. have been treated with steroids" in e.criteria  # relative indentation kept
    assert e.sex == "ALL" and e.minimum_age is None and e.maximum_age is None
    assert e.std_ages == ["CHILD", "ADULT", "OLDER_ADULT"]
    assert e.healthy_volunteers is False

    assert t.locations == [Location(facility="National Institute of Neurological Disorders and Stroke (NINDS)",
                                    city="Bethesda", state="Maryland", zip="20892", country="United States")]
    assert [(r.pmid, r.type) for r in t.references] == [("1658649", "BACKGROUND"), ("2702045", "BACKGROUND"),
                                                        ("3599350", "BACKGROUND")]
    assert t.references[0].citation.startswith("Dalakas MC. Polymyositis, dermatomyositis")
    assert t.has_results is False and t.results is None


# --- 3. posted results --------------------------------------------------------


def test_results_summary_matches_the_xml_nct00004563():
    # Scleroderma Lung Study: one period, two groups (numbers read off the record by hand).
    t = _record("NCT00004563")
    assert t.has_results is True
    r = t.results
    assert r.first_posted == "2015-03-06"
    assert r.participant_flow == [FlowGroup(title="Cylophosphamide", started=79, completed=54),
                                  FlowGroup(title="Placebo", started=79, completed=55)]
    assert r.adverse_events == [
        EventGroup(title="Cylophosphamide", serious_affected=5, serious_at_risk=79, other_affected=20, other_at_risk=79),
        EventGroup(title="Placebo", serious_affected=5, serious_at_risk=79, other_affected=4, other_at_risk=79),
    ]
    assert r.primary_outcome_titles == ["Forced Vital Capacity"]
    assert t.enrollment == 158 and t.enrollment_type == "ACTUAL"


def test_results_with_periods_and_all_cause_mortality_nct00001322():
    # Three periods; the "Total" serious-events category lists all-cause mortality
    # before the SAE total, which must land in deaths_affected, not serious_affected.
    t = _record("NCT00001322")
    r = t.results
    assert r.first_posted == "2022-02-24"
    assert r.participant_flow == [
        FlowGroup(title="Phase 1 - Lupron", started=92, completed=0),
        FlowGroup(title="Phase 2, Arm 1 - Estradiol, Then Progesterone", started=0, completed=42),
        FlowGroup(title="Phase 2, Arm 2 - Progesterone, Then Estradiol", started=0, completed=40),
    ]
    assert r.adverse_events == [
        EventGroup(title="Lupron", serious_affected=1, serious_at_risk=92, other_affected=1, other_at_risk=92,
                   deaths_affected=0),
        EventGroup(title="Phase 2 - Estradiol", serious_affected=0, serious_at_risk=82, other_affected=1,
                   other_at_risk=82, deaths_affected=0),
        EventGroup(title="Phase 2 - Progesterone", serious_affected=0, serious_at_risk=82, other_affected=0,
                   other_at_risk=82, deaths_affected=0),
    ]
    assert r.primary_outcome_titles == ["Mean Beck Depression Inventory Score"]


# --- 4. arms, masking, sites, ages -----------------------------------------------


def test_arms_masking_locations_and_ages_nct00495859():
    t = _record("NCT00495859")
    assert t.acronym == "PROUD"
    assert t.overall_status == "UNKNOWN" and t.last_known_status == "RECRUITING"
    assert t.phases == ["NA"]
    assert t.start_date == DatePoint(date="2008-04")
    assert t.completion_date == DatePoint(date="2011-04", type="ESTIMATED")
    assert t.primary_completion_date == DatePoint(date="2011-04", type="ESTIMATED")
    assert t.lead_sponsor == Organization(name="Heidelberg University", cls="OTHER")
    assert t.collaborators == [Organization(name="Novartis", cls="INDUSTRY")]
    assert t.design == Design(allocation="RANDOMIZED", intervention_model="PARALLEL", primary_purpose="SUPPORTIVE_CARE",
                              masking="QUADRUPLE",
                              who_masked=["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"])
    assert t.enrollment == 156 and t.enrollment_type == "ESTIMATED"
    assert t.arms == [
        Arm(label="1", type="ACTIVE_COMPARATOR",
            description="Study group will receive formula enriched with arginine, ω-3 fatty acids, and nucleotides "
                        "once daily",
            interventions=["Dietary Supplement: Immunonutrition"]),
        Arm(label="2", type="ACTIVE_COMPARATOR",
            description="controls receive an isocaloric isonitrogenous non-specific nutritional support",
            interventions=["Dietary Supplement: food for special medical purposes (FSMP)"]),
    ]
    assert t.interventions == [
        Intervention(name="Immunonutrition", type="DIETARY_SUPPLEMENT", description="food for special medical purpose (FSMP)",
                     other_names=["ORAL IMPACT®"], arm_labels=["1"]),
        Intervention(name="food for special medical purposes (FSMP)", type="DIETARY_SUPPLEMENT",
                     description="an isocaloric isonitrogenous non-specific nutritional support",
                     other_names=["IMPACT-Control Supplement"], arm_labels=["2"]),
    ]
    assert [(o.kind, o.time_frame) for o in t.outcomes] == [
        ("primary", "while in the waiting list for liver transplantation"),
        ("secondary", "the first 12 posttransplant weeks")]
    assert t.outcomes[0].measure.startswith("improved patients' nutritional and physiological status")

    e = t.eligibility
    assert e.minimum_age == Age(text="18 Years", years=18.0)
    assert e.maximum_age == Age(text="68 Years", years=68.0)
    assert e.std_ages == ["ADULT", "OLDER_ADULT"]
    assert e.sex == "ALL" and e.healthy_volunteers is False

    assert t.officials == [Contact(name="Peter Schemmer, MD", role="PRINCIPAL_INVESTIGATOR",
                                   affiliation="Department of Surgery, Ruprecht-Karls University of Heidelberg, Germany")]
    assert t.central_contacts == [
        Contact(name="Peter Schemmer, MD", role="CONTACT", phone="004962215636500",
                email="peter.schemmer@med.uni-heidelberg.de"),
        Contact(name="Arash Nickkholgh, MD", role="CONTACT", phone="004962215638584",
                email="arash.nickkholgh@med.uni-heidelberg.de"),
    ]
    assert t.locations == [Location(
        facility="Department of Surgery, Ruprecht-Karls University", city="Heidelberg", state="Baden-Württemberg",
        zip="69120", country="Germany", status="RECRUITING",
        contacts=[Contact(name="Peter Schemmer, MD", role="CONTACT", phone="+4962215636500",
                          email="peter.schemmer@med.uni-heidelberg.de"),
                  Contact(name="Arash Nickkholgh, MD", role="CONTACT", phone="+4962215638584",
                          email="arash.nickkholgh@med.uni-heidelberg.de"),
                  Contact(name="Peter Schemmer, MD", role="PRINCIPAL_INVESTIGATOR"),
                  Contact(name="Arash Nickkholgh, MD", role="SUB_INVESTIGATOR")])]
    assert t.locations[0].lat is None and t.locations[0].geo_source is None


def test_an_intervention_given_in_two_arms_and_a_child_only_age_range():
    t = _record("NCT00461266")  # "Antiretroviral therapy" is labelled for arms 1 and 2
    assert [(a.label, a.interventions) for a in t.arms] == [
        ("1", ["Drug: enfuvirtide [Fuzeon]", "Drug: Antiretroviral therapy"]),
        ("2", ["Drug: Antiretroviral therapy"])]
    assert t.interventions[1].arm_labels == ["1", "2"]
    assert t.why_stopped == "Slow recruitment"  # written with a trailing CRLF and indentation
    assert t.design.masking == "NONE" and t.design.who_masked == []
    assert t.eligibility.std_ages == ["ADULT", "OLDER_ADULT"]  # 18 Years to N/A

    child = _record("NCT00491790").eligibility  # 2 to 5 years
    assert (child.minimum_age.years, child.maximum_age.years) == (2.0, 5.0)
    assert child.std_ages == ["CHILD"]


# --- 5. the same trial from API v2 JSON and from legacy XML ----------------------------


def test_same_trial_from_json_and_legacy_xml():
    try:
        from trialscout.sources.ctgov_json import trial_from_json
    except ImportError as exc:  # being written alongside this module
        pytest.skip(f"JSON mapper not importable yet: {exc}")
    if not JSON_SAMPLE.exists():
        pytest.skip(f"shared sample data not found: {JSON_SAMPLE}")
    studies = json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))
    study = next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == "NCT00576225")
    j = trial_from_json(study)
    x = parse_xml_record((FIXTURES / "NCT00576225.xml").read_bytes(), "fixtures/NCT00576225.xml")

    assert (x.source, j.source) == ("ctgov-xml", "ctgov-json")
    for field in ("id", "nct_id", "org_study_id", "brief_title", "official_title", "acronym", "overall_status",
                  "why_stopped", "start_date", "primary_completion_date", "completion_date", "first_posted",
                  "last_update_posted", "phases", "study_type", "design", "conditions", "keywords", "enrollment",
                  "enrollment_type", "lead_sponsor", "collaborators", "officials", "outcomes", "arms",
                  "interventions", "has_results"):
        assert getattr(x, field) == getattr(j, field), field
    assert x.id == "NCT00576225" and x.overall_status == "WITHDRAWN" and x.enrollment == 0
    assert x.phases == ["PHASE3"] and x.lead_sponsor == Organization(name="CTI BioPharma", cls="INDUSTRY")
    assert [a.interventions for a in x.arms] == [["Drug: CT-2103/carboplatin"], ["Drug: paclitaxel/carboplatin"]]
    assert x.outcomes[0] == Outcome(kind="primary", measure="Survival", time_frame="up to 3 years post treatment")

    xe, je = x.eligibility, j.eligibility
    assert (xe.sex, xe.minimum_age, xe.maximum_age, xe.healthy_volunteers, xe.std_ages) == \
           (je.sex, je.minimum_age, je.maximum_age, je.healthy_volunteers, je.std_ages) == \
           ("FEMALE", Age(text="18 Years", years=18.0), None, False, ["ADULT", "OLDER_ADULT"])
    # Legacy XML re-wraps text blocks; the words are the same.
    assert _words(xe.criteria) == _words(je.criteria)
    assert _words(x.brief_summary) == _words(j.brief_summary)

    assert len(x.locations) == len(j.locations) == 44
    assert [(loc.facility, loc.city, loc.state, loc.zip, loc.country) for loc in x.locations] == \
           [(loc.facility, loc.city, loc.state, loc.zip, loc.country) for loc in j.locations]
    assert all(loc.lat is None for loc in x.locations)  # the XML has no coordinates
    assert [m.term for m in x.intervention_mesh] == [m.term for m in j.intervention_mesh] == ["CP protocol"]


# --- 6. bad input -------------------------------------------------------------


def _error(data: bytes, origin: str) -> RecordError:
    with pytest.raises(RecordError) as info:
        parse_xml_record(data, origin)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.origin == origin
    assert str(err) == f"{origin}: {err.problem}"
    return err


def test_not_well_formed_xml_names_origin_line_and_column():
    data = b"<clinical_study>\n  <id_info>\n    <nct_id>NCT00000001</nct_id>\n  </idinfo>\n</clinical_study>\n"
    err = _error(data, "AllPublicXML.zip:NCT0000xxxx/NCT00000001.xml")
    assert err.problem.startswith("not well-formed XML: ")
    assert "(line 4, column 12)" in err.problem
    assert "tag mismatch" in err.problem
    assert str(err).startswith("AllPublicXML.zip:NCT0000xxxx/NCT00000001.xml: not well-formed XML")

    truncated = _error(b"<clinical_study>\n  <id_info>\n", "cut.xml")
    assert truncated.problem.startswith("not well-formed XML: ") and "line 3" in truncated.problem
    assert _error(b"", "empty.xml").problem.startswith("not well-formed XML: ")


def test_non_utf8_bytes_in_a_utf8_document():
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study>\n'
            b"  <id_info><nct_id>NCT00000001</nct_id></id_info>\n"
            b"  <brief_title>Caf\xe9 au lait spots</brief_title>\n</clinical_study>\n")
    err = _error(data, "latin1.xml")
    assert err.problem.startswith("not well-formed XML: ")
    assert "encoding" in err.problem and "(line 4, column" in err.problem


def test_wrong_root_element():
    err = _error(b"<study><id_info><nct_id>NCT00000001</nct_id></id_info></study>", "other.xml")
    assert err.problem == "not a clinical_study record: root element is <study>"


def test_missing_nct_id():
    for body in (b"<id_info><org_study_id>X-1</org_study_id></id_info>",
                 b"<id_info><nct_id>   </nct_id></id_info>", b"<brief_title>No ids at all</brief_title>"):
        err = _error(b"<clinical_study>" + body + b"</clinical_study>", "no-id.xml")
        assert err.problem == "missing required field id_info/nct_id"
        assert str(err) == "no-id.xml: missing required field id_info/nct_id"


def test_entities_are_not_resolved():
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info>"
            b"<brief_title>&x;</brief_title></clinical_study>")
    t = parse_xml_record(data, "xxe.xml")
    assert t.id == "NCT00000001" and t.brief_title is None
