"""The "Am I a good fit?" questionnaire on the real seed trials: questions, answers -> profile -> match."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from conftest import SEEDS
from trialscout.criteria import parse_criteria
from trialscout.patients import patient_from_profile
from trialscout.patients.concepts import unit_of
from trialscout.patients.errors import PatientInputError
from trialscout.sources import read_path
from trialscout.web.questionnaire import (
    GROUPS, AnswerError, Question, check_fit, display_unit, profile_from_answers, questions_for,
)

TODAY = dt.date(2026, 11, 27)
PREDNISONE = "Prednisone dose greater than 20 mg/day"
PLATELETS = "platelets <= 100,000"


@pytest.fixture(scope="module")
def seeds():
    if not SEEDS.exists():
        pytest.skip("needs ../shared/data/seed-trials (the seed trials)")
    trials = {t.id: t for t in read_path(SEEDS)}
    return {i: (t, parse_criteria(t.eligibility.criteria)) for i, t in trials.items()
            if t.eligibility and t.eligibility.criteria}


@pytest.fixture(scope="module")
def nct07012057(seeds):
    return seeds["NCT07012057"]


@pytest.fixture(scope="module")
def questions(nct07012057):
    return {q.name: q for q in questions_for(nct07012057[1])}


def fit(trial, answers):
    t, criteria = trial
    return check_fit(t.id, t.title, criteria, answers, TODAY)[0]


def crit(m, start):
    return next(c for c in m.criteria if start in c.text)


DM_50 = {"age": "50", "sex": "female", "dx_dermatomyositis": "yes"}


# --- questions ---------------------------------------------------------------------------------------

def test_nct07012057_asks_age_sex_diagnosis_prednisone_dose_and_platelets(questions):
    assert questions["age"].kind == "number" and questions["age"].unit == "years"
    assert questions["sex"].kind == "choice" and {"female", "male"} <= {c.value for c in questions["sex"].choices}
    dx = questions["dx_dermatomyositis"]
    assert dx.kind == "yesno" and dx.group == "diagnosis" and dx.concept == "dermatomyositis"
    assert questions["drug_prednisone"].group == "medications"
    dose = questions["dose_prednisone"]
    assert dose.kind == "number" and dose.unit == "mg/day" and dose.for_question == "drug_prednisone"
    plt = questions["lab_platelet_count"]
    assert plt.kind == "number" and plt.group == "tests" and plt.unit in ("/µL", "x10^9/L")
    assert "pregnant" in questions and "women" in questions["pregnant"].help
    assert "breastfeeding" in questions
    assert "dx_idiopathic_inflammatory_myopathy" not in questions  # dermatomyositis is one; asked once


def test_the_diagnosis_is_asked_even_when_its_criterion_is_only_partly_read(seeds):
    qs = questions_for(seeds["SEED-LENALIDOMIDE-CDM"][1])
    assert [q.concept for q in qs if q.role == "diagnosis"] == ["idiopathic inflammatory myopathy"]


def test_questions_are_short_safe_and_point_at_real_criteria(seeds):
    for trial, criteria in seeds.values():
        qs = questions_for(criteria)
        ids = {c.id for c in criteria}
        names = [q.name for q in qs]
        assert len(qs) <= 25 and names[:2] == ["age", "sex"]
        assert len(set(names)) == len(names)
        assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)
        assert [GROUPS.index(q.group) for q in qs] == sorted(GROUPS.index(q.group) for q in qs)
        for q in qs:
            assert set(q.criteria) <= ids, (trial.id, q.name)
            assert q.label and "None" not in q.label
            if q.kind in ("choice", "yesno"):
                assert "dk" in {c.value for c in q.choices}  # "don't know" is always allowed
            if q.for_question:
                assert q.for_question in names
        assert questions_for(criteria) == qs  # stable names and order


def test_most_decisive_questions_survive_a_small_limit(nct07012057):
    qs = questions_for(nct07012057[1], limit=8)
    names = [q.name for q in qs]
    assert len(qs) <= 8 and {"age", "sex", "dx_dermatomyositis"} <= set(names)
    assert ("dose_prednisone" in names) == ("drug_prednisone" in names)  # a dose never without its drug


def test_questions_about_parts_the_matcher_cannot_settle_are_left_out(questions):
    # "Change in dose of prednisone" and consent ("lack capacity to consent") are never asked.
    assert not any(n.startswith(("consent", "will_comply")) for n in questions)
    assert all("change" not in q.label.lower() for q in questions.values())


# --- answers -> verdict ------------------------------------------------------------------------------

def test_prednisone_25_mg_a_day_makes_the_trial_ineligible(nct07012057):
    m = fit(nct07012057, {**DM_50, "drug_prednisone": "now", "dose_prednisone": "25"})
    c = crit(m, PREDNISONE)
    assert m.verdict == "ineligible"
    assert c.section == "exclusion" and c.state == "met" and m.deciding == [c.id]
    assert c.evidence and c.evidence[0].concept == "prednisone"


def test_prednisone_10_mg_a_day_is_not_disqualifying(nct07012057):
    m = fit(nct07012057, {**DM_50, "drug_prednisone": "now", "dose_prednisone": "10"})
    assert crit(m, PREDNISONE).state == "not_met"
    assert m.verdict == "possibly_eligible"


def test_platelets_90000_per_microlitre_make_it_ineligible(nct07012057, questions):
    value = "90,000" if questions["lab_platelet_count"].unit == "/µL" else "90"
    m = fit(nct07012057, {**DM_50, "lab_platelet_count": value})
    c = crit(m, PLATELETS)
    assert m.verdict == "ineligible" and c.state == "met" and m.deciding == [c.id]


def test_platelets_150000_do_not_exclude(nct07012057):
    m = fit(nct07012057, {**DM_50, "lab_platelet_count": "150000"})
    assert crit(m, PLATELETS).state != "met" and m.verdict == "possibly_eligible"


def test_dont_know_everywhere_is_possibly_eligible_never_eligible(seeds):
    for trial in seeds.values():
        qs = questions_for(trial[1])
        for answers in ({q.name: "dk" for q in qs}, {}, {q.name: "" for q in qs}):
            m = fit(trial, answers)
            assert m.verdict == "possibly_eligible", trial[0].id
            assert not m.deciding


def test_too_young_is_ineligible_through_the_age_criterion(nct07012057):
    m = fit(nct07012057, {"age": "17"})
    assert m.verdict == "ineligible" and crit(m, "18 years of age or older").id in m.deciding


@pytest.mark.parametrize("answer, within_6, within_12", [
    ("now", "met", "met"), ("w180", "met", "met"), ("w360", "not_met", "met"), ("gt360", "not_met", "not_met"),
    ("never", "not_met", "not_met"),  # stated as never taken (profile medications[].negated)
])
def test_rituximab_stop_date_choices_follow_the_criteria_windows(nct07012057, answer, within_6, within_12):
    m = fit(nct07012057, {"drug_rituximab": answer})
    assert crit(m, "Rituximab use within 6 months").state == within_6
    assert crit(m, "If rituximab given within 12 months").state == within_12


def test_condition_answers(nct07012057):
    # "No tuberculosis" alone does not rule out every mycobacterial infection: both must be answered.
    m = fit(nct07012057, {"cond_tuberculosis": "no", "cond_infection": "w84"})
    assert crit(m, "latent or active tuberculosis").state == "unknown"
    m = fit(nct07012057, {"cond_tuberculosis": "no", "cond_mycobacterial_infection": "no", "cond_infection": "w84"})
    assert crit(m, "latent or active tuberculosis").state == "not_met"
    assert crit(m, "Recent infection requiring antibiotics").state == "not_met"  # 4-12 weeks ago: not in 4
    assert crit(m, "symptomatic herpes zoster").state == "met"  # ... but within 12 weeks
    m = fit(nct07012057, {"cond_tuberculosis": "yes"})
    assert m.verdict == "ineligible"


def test_a_man_is_not_asked_about_pregnancy_by_the_matcher(nct07012057):
    m = fit(nct07012057, {"sex": "male", "pregnant": "dk"})
    assert crit(m, "Pregnant or breast-feeding").state == "not_applicable"
    m = fit(nct07012057, {"sex": "female", "pregnant": "yes"})
    assert crit(m, "Pregnant or breast-feeding").state == "met"


# --- the profile -------------------------------------------------------------------------------------

def test_the_profile_validates_and_reads_back(questions):
    answers = {**DM_50, "pregnant": "no", "breastfeeding": "no", "drug_prednisone": "now",
               "dose_prednisone": "12.5", "drug_rituximab": "w360", "lab_platelet_count": "250,000",
               "lab_hemoglobin": "12.1", "cond_interstitial_lung_disease": "no", "unrelated_field": "x"}
    profile = profile_from_answers(questions.values(), answers, as_of=TODAY)
    json.dumps(profile)  # plain JSON a page could keep
    assert profile["age"] == 50 and profile["sex"] == "female" and profile["pregnant"] is False
    pred = next(m for m in profile["medications"] if m["name"] == "prednisone")
    assert pred == {"name": "prednisone", "active": True, "dose": 12.5, "unit": "mg/day"}
    ritux = next(m for m in profile["medications"] if m["name"] == "rituximab")
    assert ritux["active"] is False and ritux["until"] == (TODAY - dt.timedelta(days=181)).isoformat()
    assert {"name": "interstitial lung disease", "negated": True} in profile["conditions"]
    patient = patient_from_profile(profile, source_name="questionnaire")
    assert patient.problems == []
    plt = next(f for f in patient.facts if f.concept == "platelet count")
    assert plt.value == 250 and plt.unit == "1e9/L"  # normalized to the lexicon's unit


def test_a_dose_without_taking_the_drug_is_ignored(questions):
    profile = profile_from_answers(questions.values(), {"drug_prednisone": "dk", "dose_prednisone": "25"})
    assert "medications" not in profile


# --- bad and hostile input ---------------------------------------------------------------------------

def test_a_bad_number_names_the_question(questions):
    with pytest.raises(AnswerError) as err:
        profile_from_answers(questions.values(), {"age": "fifty", "lab_platelet_count": "1,5", "dose_prednisone": "-3"})
    e = err.value
    assert isinstance(e, PatientInputError)
    assert set(e.problems) == {"age", "lab_platelet_count", "dose_prednisone"}
    assert questions["age"].label in str(e) and questions["lab_platelet_count"].label in str(e)
    assert "fifty" not in str(e)  # never repeats what was typed
    assert "decimals" in e.problems["lab_platelet_count"]


def test_out_of_range_and_bad_choices_are_errors(questions):
    for answers, name in (({"age": "200"}, "age"), ({"sex": "robot"}, "sex"), ({"pregnant": "maybe"}, "pregnant"),
                          ({"drug_rituximab": "w9999"}, "drug_rituximab"), ({"age": "nan"}, "age"),
                          ({"age": "1e400"}, "age")):
        with pytest.raises(AnswerError) as err:
            profile_from_answers(questions.values(), answers)
        assert list(err.value.problems) == [name]


def test_hostile_input_does_not_crash(nct07012057, questions):
    script = "<script>alert(1)</script>"
    hostile = {name: script * 2000 for name in questions}
    with pytest.raises(AnswerError) as err:
        fit(nct07012057, hostile)
    assert "<script>" not in str(err.value) and len(str(err.value)) < 5000
    odd = {"age": ["50", "60"], "sex": None, "dx_dermatomyositis": 1, script: script, "x" * 100_000: "y",
           "lab_platelet_count": "  90000  ", "pregnant": "\u00a0"}
    m = fit(nct07012057, odd)
    assert m.verdict == "ineligible"


def test_dates_are_checked(nct07012057):
    trial, criteria = nct07012057
    text = "Inclusion Criteria:\n- Platelets >= 100 x10^9/L within 4 weeks before screening\n"
    qs = questions_for(parse_criteria(text))
    names = {q.name: q for q in qs}
    assert names["tests_date"].kind == "date"
    for bad in ("2026-13-01", "27/11/2026", "2027-01-01", "1800"):
        with pytest.raises(AnswerError) as err:
            profile_from_answers(qs, {"lab_platelet_count": "150", "tests_date": bad}, as_of=TODAY)
        assert list(err.value.problems) == ["tests_date"]
    crits = parse_criteria(text)
    recent = check_fit("X", None, crits, {"lab_platelet_count": "150", "tests_date": "2026-11-20"}, TODAY)[0]
    old = check_fit("X", None, crits, {"lab_platelet_count": "150", "tests_date": "2026-01"}, TODAY)[0]
    assert recent.criteria[0].state == "met" and old.criteria[0].state == "unknown"


def test_mmt8_asks_which_scale_and_never_guesses_it():
    crits = parse_criteria("Inclusion Criteria:\n- Manual Muscle Testing (MMT-8) score < 136/150\n")
    qs = questions_for(crits)
    scale = next(q for q in qs if q.role == "scale")
    assert {c.value for c in scale.choices} == {"80", "150", "dk"}
    assert scale.for_question == "score_manual_muscle_testing_8"

    def state(answers):
        return check_fit("X", None, crits, answers, TODAY)[0].criteria[0].state

    score = "score_manual_muscle_testing_8"
    assert state({score: "120", scale.name: "150"}) == "met"
    assert state({score: "140", scale.name: "150"}) == "not_met"
    assert state({score: "70", scale.name: "dk"}) == "unknown"  # fits /80 and /150: left out
    assert state({score: "70", scale.name: "80"}) == "unknown"  # /80 against a /150 limit: not compared
    with pytest.raises(AnswerError):
        profile_from_answers(qs, {score: "120", scale.name: "80"})


def test_a_dose_in_another_unit_is_asked_in_the_criterions_unit():
    crits = parse_criteria("Exclusion Criteria:\n- Methotrexate dose greater than 25 mg/week\n")
    dose = next(q for q in questions_for(crits) if q.role == "dose")
    assert dose.unit == "mg/week"
    m = check_fit("X", None, crits, {"drug_methotrexate": "yes", "dose_methotrexate": "30"}, TODAY)[0]
    assert m.verdict == "ineligible"


def test_display_units_read_back_to_the_same_unit():
    for unit in ("1/uL", "1e9/L", "1e3/uL", "1e12/L", "umol/L", "ug/L", "uIU/mL", "mL/min/(1.73 m^2)", "kg/m^2",
                 "g/dL", "mg/day", "mg/week", "U/L", "%"):
        assert unit_of(display_unit(unit)) == (unit, True), unit
    assert display_unit("1/uL") == "/µL" and display_unit("1e9/L") == "x10^9/L"


def test_question_is_frozen():
    q = Question(name="age", label="How old are you?", kind="number", group="about you", role="age")
    with pytest.raises(Exception):
        q.name = "other"  # type: ignore[misc]
