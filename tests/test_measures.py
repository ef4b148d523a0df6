"""Outcome measures: TIS, CDASI, MMT-8, EASI-75/IGA and the cohort report, checked against hand arithmetic.

Expected values are worked out by hand from the published tables (the arithmetic is in the
comments), never by calling the code under test.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from trialscout.cli.measure import measure_app
from trialscout.measures import (MeasureError, categorize, cohort_report, compute_cdasi, compute_mmt8,
                                 compute_responders, compute_tis, easi75, iga_responder, plot_report)
from trialscout.measures.cdasi import maximum_totals

SAMPLE = Path(resources.files("trialscout.measures").joinpath("sample_cohort.csv"))

# No change at all: every measure scores 0, so a test can move one measure and read its points.
NEUTRAL = {"physician_global": 5, "patient_global": 5, "mmt8": 100, "haq": 1.5, "enzyme": 1000,
           "extramuscular_global": 5}


def tis_input(baseline=None, followup=None, *, population="adult", mmt8_scale=150, **extra) -> dict:
    return {"population": population, "mmt8_scale": mmt8_scale, "baseline": {**NEUTRAL, **(baseline or {})},
            "followup": {**NEUTRAL, **(followup or {})}, **extra}


def points(result, measure: str) -> float:
    return next(m.points for m in result.measures if m.measure == measure)


def one_change(measure: str, before, after, **settings) -> float:
    result = compute_tis(tis_input({measure: before}, {measure: after}, **settings))
    others = sum(m.points for m in result.measures if m.measure != measure)
    assert others == 0
    assert result.total == points(result, measure)
    return points(result, measure)


# --- TIS: worked examples ------------------------------------------------------------------------

def test_tis_adult_worked_example():
    result = compute_tis(tis_input(
        {"physician_global": 6.0, "patient_global": 7.0, "mmt8": 110, "haq": 1.5, "enzyme": 2400,
         "extramuscular_global": 4.0},
        {"physician_global": 2.0, "patient_global": 4.0, "mmt8": 135, "haq": 0.9, "enzyme": 600,
         "extramuscular_global": 1.0}))
    # physician  (6-2)/10       = 40%     -> >25-40 band -> 17.5
    # patient    (7-4)/10       = 30%     -> >25-40      ->  7.5
    # MMT-8      (135-110)/150  = 16.67%  -> >10-20      -> 20
    # HAQ        (1.5-0.9)/3    = 20%     -> >15-25      ->  7.5
    # enzyme     (2400-600)/2400= 75%     -> >40         ->  7.5
    # extramusc. (4-1)/10       = 30%     -> >25-40      -> 15
    # total 17.5+7.5+20+7.5+7.5+15 = 75 >= 60 -> adult major
    assert [m.points for m in result.measures] == [17.5, 7.5, 20, 7.5, 7.5, 15]
    assert [m.percent_change for m in result.measures] == [40, 30, 16.6667, 20, 75, 30]
    assert result.total == 75 and result.category == "major" and result.population == "adult"
    enzyme = result.measures[4]
    assert (enzyme.basis, enzyme.scale_min, enzyme.scale_max) == ("baseline", None, None)
    assert (result.measures[2].scale_min, result.measures[2].scale_max) == (0, 150)


def test_tis_juvenile_worked_example_same_total_different_category():
    data = tis_input(
        {"physician_global": 6.0, "patient_global": 7.0, "mmt8": 55, "haq": 1.75, "enzyme": 18.0,
         "extramuscular_global": 5.0},
        {"physician_global": 3.5, "patient_global": 5.0, "mmt8": 68, "haq": 1.0, "enzyme": 9.0,
         "extramuscular_global": 3.0}, population="juvenile", mmt8_scale=80)
    # physician (6-3.5)/10 = 25% -> 15; parent (7-5)/10 = 20% -> 5; MMT (68-55)/80 = 16.25% -> 20;
    # CHAQ (1.75-1)/3 = 25% -> 7.5; aldolase (18-9)/18 = 50% -> 7.5; extramuscular (5-3)/10 = 20% -> 12.5
    # total 67.5: juvenile moderate (45 <= 67.5 < 70); the same total is an adult major response.
    result = compute_tis(data)
    assert result.total == 67.5 and result.category == "moderate"
    assert compute_tis({**data, "population": "adult"}).category == "major"


def test_tis_mmt8_scale_changes_the_result():
    # The same raw change of +20: 20/80 = 25% (>20-30 band -> 27.5) but 20/150 = 13.3% (>10-20 -> 20).
    # Hence the scale is required, not guessed.
    assert one_change("mmt8", 50, 70, mmt8_scale=80) == 27.5
    assert one_change("mmt8", 50, 70, mmt8_scale=150) == 20


# --- TIS: every band edge of every measure -----------------------------------------------------------

def test_naive_float_arithmetic_would_misplace_edges():
    # Why the module computes exactly: these are exactly 2% and 15% but floats overshoot the edge.
    assert (41.6 - 40) / 80 * 100 > 2
    assert (3 - 2.55) / 3 * 100 > 15


@pytest.mark.parametrize("measure, expected", [
    # baseline 10 on the 0-10 VAS; follow-up 9.5 = exactly 5%, 9.49 = 5.1%, 8.5 = 15%, 8.49 = 15.1%,
    # 7.5 = 25%, 7.49 = 25.1%, 6.0 = 40%, 5.99 = 40.1%
    ("physician_global", [0, 7.5, 7.5, 15, 15, 17.5, 17.5, 20]),
    ("patient_global", [0, 2.5, 2.5, 5, 5, 7.5, 7.5, 10]),
    ("extramuscular_global", [0, 7.5, 7.5, 12.5, 12.5, 15, 15, 20]),
])
def test_vas_measure_band_edges(measure, expected):
    followups = [9.5, 9.49, 8.5, 8.49, 7.5, 7.49, 6.0, 5.99]
    assert [one_change(measure, 10, f) for f in followups] == expected


def test_haq_band_edges():
    # baseline 3 on 0-3: 2.85 = 5%, 2.84 = 5.33%, 2.55 = 15%, 2.54 = 15.33%, 2.25 = 25%, 2.24 = 25.33%,
    # 1.8 = 40%, 1.79 = 40.33%; points 0 | 5 | 7.5 | 7.5 | 10
    followups = [2.85, 2.84, 2.55, 2.54, 2.25, 2.24, 1.8, 1.79]
    assert [one_change("haq", 3, f) for f in followups] == [0, 5, 5, 7.5, 7.5, 7.5, 7.5, 10]


def test_mmt8_band_edges_on_both_scales():
    # 0-80 from 40: 41.6 = 2%, 41.61 = 2.01%, 48 = 10%, 48.01, 56 = 20%, 56.01, 64 = 30%, 64.01
    on_80 = [41.6, 41.61, 48, 48.01, 56, 56.01, 64, 64.01]
    assert [one_change("mmt8", 40, f, mmt8_scale=80) for f in on_80] == [0, 10, 10, 20, 20, 27.5, 27.5, 32.5]
    # 0-150 from 100: 103 = 2%, 104 = 2.67%, 115 = 10%, 116, 130 = 20%, 131, 145 = 30%, 146
    on_150 = [103, 104, 115, 116, 130, 131, 145, 146]
    assert [one_change("mmt8", 100, f, mmt8_scale=150) for f in on_150] == [0, 10, 10, 20, 20, 27.5, 27.5, 32.5]


def test_enzyme_band_edges_relative_to_baseline():
    # default basis "baseline": from 1000, 950 = 5%, 949 = 5.1%, 850 = 15%, 849, 750 = 25%, 749, 600 = 40%, 599
    followups = [950, 949, 850, 849, 750, 749, 600, 599]
    assert [one_change("enzyme", 1000, f) for f in followups] == [0, 2.5, 2.5, 5, 5, 7.5, 7.5, 7.5]


def test_enzyme_range_basis():
    # over an explicit 0-2000 range: (1000-900)/2000 = 5% -> 0; (1000-899)/2000 = 5.05% -> 2.5;
    # (1000-200)/2000 = 40% -> 7.5
    settings = {"enzyme_basis": "range", "enzyme_range": [0, 2000]}
    assert [one_change("enzyme", 1000, f, **settings) for f in (900, 899, 200)] == [0, 2.5, 7.5]
    result = compute_tis(tis_input({"enzyme": 1000}, {"enzyme": 899}, **settings))
    enzyme = result.measures[4]
    assert (enzyme.basis, enzyme.scale_min, enzyme.scale_max, enzyme.percent_change) == ("range", 0, 2000, 5.05)


def test_scale_override_for_a_100_mm_vas():
    # physician VAS in mm: (60-55)/100 = 5% -> 0; (60-54)/100 = 6% -> 7.5
    scales = {"physician_global": [0, 100]}
    assert one_change("physician_global", 60, 55, scales=scales) == 0
    assert one_change("physician_global", 60, 54, scales=scales) == 7.5


def test_worsening_and_no_change_score_zero():
    result = compute_tis(tis_input(
        {"physician_global": 4, "patient_global": 5, "mmt8": 70, "haq": 0.9, "enzyme": 12, "extramuscular_global": 2},
        {"physician_global": 9, "patient_global": 10, "mmt8": 20, "haq": 3, "enzyme": 90, "extramuscular_global": 8},
        mmt8_scale=80))
    # physician (4-9)/10 = -50%; MMT (20-70)/80 = -62.5%; enzyme (12-90)/12 = -650%: all worse -> 0
    assert all(m.points == 0 for m in result.measures)
    assert [m.percent_change for m in result.measures] == [-50, -50, -62.5, -70, -650, -60]
    assert result.total == 0 and result.category == "none"
    assert compute_tis(tis_input()).total == 0


# --- TIS: response thresholds -------------------------------------------------------------------------

# Improvements that land in a known band: physician 10->5.99 (>40%: 20) or 10->6 (40%: 17.5);
# extramuscular 10->5 (50%: 20); MMT-8 100->130 on 0-150 (20%: 20), 100->142 (28%: 27.5);
# patient 10->5 (50%: 10), 10->7.5 (25%: 5), 10->9 (10%: 2.5).
PHYS_20, PHYS_17_5 = ({"physician_global": 10}, {"physician_global": 5.99}), ({"physician_global": 10},
                                                                               {"physician_global": 6})


def combined(*changes, population="adult") -> float | str:
    baseline, followup = {}, {}
    for b, f in changes:
        baseline.update(b)
        followup.update(f)
    result = compute_tis(tis_input(baseline, followup, population=population))
    return result.total, result.category


EM_20 = ({"extramuscular_global": 10}, {"extramuscular_global": 5})
MMT_20, MMT_27_5 = ({"mmt8": 100}, {"mmt8": 130}), ({"mmt8": 100}, {"mmt8": 142})
PAT_10, PAT_5, PAT_2_5 = ({"patient_global": 10}, {"patient_global": 5}), ({"patient_global": 10},
                         {"patient_global": 7.5}), ({"patient_global": 10}, {"patient_global": 9})


def test_adult_thresholds_at_their_edges():
    assert combined(PHYS_17_5) == (17.5, "none")
    assert combined(PHYS_20) == (20, "minimal")                       # 20
    assert combined(PHYS_17_5, EM_20) == (37.5, "minimal")            # 17.5 + 20
    assert combined(PHYS_20, EM_20) == (40, "moderate")               # 20 + 20
    assert combined(PHYS_17_5, EM_20, MMT_20) == (57.5, "moderate")   # 17.5 + 20 + 20
    assert combined(PHYS_20, EM_20, MMT_20) == (60, "major")          # 20 + 20 + 20


def test_juvenile_thresholds_at_their_edges():
    j = {"population": "juvenile"}
    assert combined(PHYS_17_5, PAT_10, **j) == (27.5, "none")                      # 17.5 + 10
    assert combined(PHYS_20, PAT_10, **j) == (30, "minimal")                       # 20 + 10
    assert combined(PHYS_17_5, EM_20, PAT_5, **j) == (42.5, "minimal")             # 17.5 + 20 + 5
    assert combined(PHYS_20, EM_20, PAT_5, **j) == (45, "moderate")                # 20 + 20 + 5
    assert combined(PHYS_17_5, EM_20, MMT_27_5, PAT_2_5, **j) == (67.5, "moderate")  # 17.5+20+27.5+2.5
    assert combined(PHYS_20, EM_20, MMT_27_5, PAT_2_5, **j) == (70, "major")       # 20+20+27.5+2.5


def test_categorize_between_point_steps():
    # Point values move in steps of 2.5, so 19.99 only arises from a hand-entered total.
    assert [categorize(t, "adult") for t in (19.99, 20, 39.99, 40, 59.99, 60, 100)] == [
        "none", "minimal", "minimal", "moderate", "moderate", "major", "major"]
    assert [categorize(t, "juvenile") for t in (29.99, 30, 44.99, 45, 69.99, 70)] == [
        "none", "minimal", "minimal", "moderate", "moderate", "major"]
    with pytest.raises(MeasureError, match="population"):
        categorize(50, "child")


# --- TIS: invalid input ----------------------------------------------------------------------------------

def test_missing_measures_are_all_named():
    data = tis_input()
    del data["followup"]["haq"]
    data["baseline"]["enzyme"] = None
    with pytest.raises(MeasureError) as err:
        compute_tis(data)
    assert "missing baseline.enzyme, followup.haq" in str(err.value)


def test_missing_visit_and_scale_are_named():
    data = tis_input()
    del data["followup"], data["mmt8_scale"]
    message = str(pytest.raises(MeasureError, compute_tis, data).value)
    assert "mmt8_scale" in message and "followup.physician_global" in message and "followup.enzyme" in message


@pytest.mark.parametrize("change, fragment", [
    ({"baseline": {"physician_global": 11}}, "baseline.physician_global = 11 is outside its scale 0-10"),
    ({"followup": {"mmt8": 90}, "mmt8_scale": 80}, "followup.mmt8 = 90 is outside its scale 0-80"),
    ({"baseline": {"haq": -0.5}}, "baseline.haq = -0.5 is outside its scale 0-3"),
    ({"followup": {"enzyme": -3}}, "followup.enzyme = -3 must not be negative"),
    ({"baseline": {"enzyme": 0}}, "baseline.enzyme = 0"),
    ({"followup": {"patient_global": "5"}}, "followup.patient_global must be a number"),
    ({"followup": {"patient_global": True}}, "followup.patient_global must be a number"),
    ({"mmt8_scale": 100}, "mmt8_scale must be one of 80, 150"),
    ({"population": "child"}, "population must be one of adult, juvenile"),
    ({"enzyme_basis": "uln"}, "enzyme_basis must be one of baseline, range"),
    ({"enzyme_basis": "range"}, "missing enzyme_range"),
    ({"enzyme_range": [0, 500]}, "enzyme_range is only used with enzyme_basis 'range'"),
    ({"enzyme_basis": "range", "enzyme_range": [500, 100]}, "min < max"),
    ({"enzyme_basis": "range", "enzyme_range": [0, 500]}, "baseline.enzyme = 1000 is outside its scale 0-500"),
    ({"scales": {"physician_global": [0]}}, "scales.physician_global must be [min, max]"),
])
def test_invalid_values_name_the_field_and_range(change, fragment):
    data = tis_input()
    for key, value in change.items():
        if key in ("baseline", "followup"):
            data[key].update(value)
        else:
            data[key] = value
    with pytest.raises(MeasureError) as err:
        compute_tis(data)
    assert fragment in str(err.value)


def test_unknown_keys_are_refused_not_dropped():
    data = tis_input()
    data["baseline"]["physican_global"] = data["baseline"].pop("physician_global")  # a typo
    data["mmt_scale"] = 80
    data["scales"] = {"mmt8": [0, 80]}  # the MMT-8 range comes from mmt8_scale only
    message = str(pytest.raises(MeasureError, compute_tis, data).value)
    assert message.startswith("unknown key(s): mmt_scale, scales.mmt8, baseline.physican_global")
    assert "missing baseline.physician_global" in message
    with pytest.raises(MeasureError, match="must be an object"):
        compute_tis([1, 2])


# --- CDASI -----------------------------------------------------------------------------------------------

def cdasi_structure_file() -> dict:
    return json.loads(resources.files("trialscout.measures").joinpath("cdasi_items.json").read_text())


def cdasi_input(site=0, gottron=None, periungual=0, alopecia=0, **site_overrides) -> dict:
    s = cdasi_structure_file()
    sites = {x["key"]: {item: site for item in s["site_items"]} for x in s["sites"]}
    for key, items in site_overrides.items():
        sites[key].update(items)
    return {"sites": sites,
            "gottron_hands": gottron or {"erythema": 0, "papules": False, "ulceration": 0, "damage": 0},
            "periungual": periungual, "alopecia": alopecia}


def test_cdasi_item_ranges_add_up_to_100_and_32():
    s = cdasi_structure_file()
    assert len(s["sites"]) == 15 and s["_source"]
    site_max = {kind: sum(i["max"] for i in s["site_items"].values() if i["counts_to"] == kind)
                for kind in ("activity", "damage")}
    assert site_max == {"activity": 3 + 2 + 1, "damage": 1 + 1}
    gottron = s["gottron_hands"]["items"]
    # activity: 15 sites x 6 = 90, Gottron's erythema 3 doubled = 6, ulceration 1, periungual 2, alopecia 1
    activity = 15 * site_max["activity"] + 2 * gottron["erythema"]["max"] + gottron["ulceration"]["max"] + \
        s["single_items"]["periungual"]["max"] + s["single_items"]["alopecia"]["max"]
    # damage: 15 sites x 2 = 30, Gottron's damage 2
    damage = 15 * site_max["damage"] + gottron["damage"]["max"]
    assert (activity, damage) == (100, 32) == maximum_totals()


def test_cdasi_maximum_and_zero():
    s = cdasi_structure_file()
    top = {x["key"]: {item: spec["max"] for item, spec in s["site_items"].items()} for x in s["sites"]}
    worst = {"sites": top, "gottron_hands": {"erythema": 3, "papules": True, "ulceration": 1, "damage": 2},
             "periungual": 2, "alopecia": 1}
    result = compute_cdasi(worst)
    assert (result.activity, result.damage) == (100, 32)
    assert compute_cdasi(cdasi_input()).activity == 0 == compute_cdasi(cdasi_input()).damage


def test_cdasi_worked_example_with_papule_doubling():
    data = cdasi_input(
        malar={"erythema": 3, "scale": 1, "erosion_ulceration": 0, "poikiloderma": 1},
        v_neck={"erythema": 2, "scale": 0, "erosion_ulceration": 1, "calcinosis": 1},
        periorbital={"erythema": 2},
        gottron={"erythema": 2, "papules": True, "ulceration": 1, "damage": 1}, periungual=2, alopecia=1)
    # activity: malar 3+1+0 = 4, V-neck 2+0+1 = 3, periorbital 2, Gottron's hands 2x2 + 1 = 5,
    #           periungual 2, alopecia 1 -> 17;  damage: malar 1, V-neck 1, Gottron's 1 -> 3
    result = compute_cdasi(data)
    assert (result.activity, result.damage) == (17, 3)
    assert result.per_site["malar"].activity == 4 and result.per_site["v_neck"].damage == 1
    assert (result.gottron_hands.activity, result.gottron_hands.damage) == (5, 1)
    # without papules the Gottron's erythema counts once: 17 - 2 = 15
    data["gottron_hands"]["papules"] = False
    assert compute_cdasi(data).activity == 15


def test_cdasi_validation_names_item_and_range():
    data = cdasi_input(scalp={"erythema": 4}, arm={"scale": 1.5})
    data["gottron_hands"]["papules"] = 2
    data["periungual"] = 3
    message = str(pytest.raises(MeasureError, compute_cdasi, data).value)
    assert "sites.scalp.erythema must be a whole number 0-3, got 4" in message
    assert "sites.arm.scale must be a whole number 0-2, got 1.5" in message
    assert "gottron_hands.papules must be true/false or 0-1, got 2" in message
    assert "periungual must be a whole number 0-2, got 3" in message


def test_cdasi_missing_and_unknown_items_are_listed():
    data = cdasi_input()
    del data["sites"]["arm"], data["sites"]["scalp"]["calcinosis"], data["alopecia"]
    data["sites"]["skalp"] = {"erythema": 1}
    message = str(pytest.raises(MeasureError, compute_cdasi, data).value)
    assert message.startswith("unknown key(s): sites.skalp; missing sites.scalp.calcinosis, sites.arm, alopecia")


# --- MMT-8 -----------------------------------------------------------------------------------------------

MUSCLES = ("neck_flexors", "deltoid", "biceps_brachii", "wrist_extensors", "gluteus_maximus", "gluteus_medius",
           "quadriceps", "ankle_dorsiflexors")


def test_mmt8_one_side_0_80():
    scores = dict(zip(MUSCLES, (9, 8, 10, 10, 6, 7, 9, 10)))
    # 9+8+10+10+6+7+9+10 = 69 of 80
    result = compute_mmt8({"scale": 80, "scores": scores})
    assert (result.total, result.scale) == (69, 80)
    assert compute_mmt8({"scale": 80, "scores": dict.fromkeys(MUSCLES, 10)}).total == 80


def test_mmt8_both_sides_0_150():
    scores = {"neck_flexors": 7, **{m: {"left": 8, "right": 9} for m in MUSCLES[1:]}}
    # neck 7 + 7 paired groups x (8 + 9) = 7 + 119 = 126 of 150
    result = compute_mmt8({"scale": 150, "scores": scores})
    assert (result.total, result.scale) == (126, 150)
    full = {"neck_flexors": 10, **{m: {"left": 10, "right": 10} for m in MUSCLES[1:]}}
    assert compute_mmt8({"scale": 150, "scores": full}).total == 150


def test_mmt8_validation():
    with pytest.raises(MeasureError, match=r"scores.deltoid must be \{\"left\": grade, \"right\": grade\}"):
        compute_mmt8({"scale": 150, "scores": dict.fromkeys(MUSCLES, 10)})
    message = str(pytest.raises(MeasureError, compute_mmt8, {"scale": 80, "scores": {
        **dict.fromkeys(MUSCLES[2:], 10), "neck_flexors": 11, "deltoid": 7.5, "triceps": 5}}).value)
    assert message == ("unknown key(s): scores.triceps; scores.neck_flexors must be a whole Kendall grade 0-10, "
                       "got 11; scores.deltoid must be a whole Kendall grade 0-10, got 7.5")
    message = str(pytest.raises(MeasureError, compute_mmt8, {"scores": {"neck_flexors": 5}}).value)
    assert "missing scale (80 or 150), scores.deltoid" in message
    with pytest.raises(MeasureError, match="scale must be 80"):
        compute_mmt8({"scale": 100, "scores": dict.fromkeys(MUSCLES, 5)})
    bilateral = {"neck_flexors": 7, **{m: {"left": 8} for m in MUSCLES[1:]}}
    assert "scores.deltoid.right" in str(pytest.raises(MeasureError, compute_mmt8,
                                                       {"scale": 150, "scores": bilateral}).value)


# --- EASI-75 and IGA ------------------------------------------------------------------------------------

def test_easi75_edges():
    assert easi75(20, 5).easi75            # (20-5)/20 = exactly 75%
    assert not easi75(20, 5.01).easi75     # 74.95%
    assert (2.8 - 0.7) / 2.8 * 100 < 75    # naive floats fall just short of the edge...
    assert easi75(2.8, 0.7).easi75         # ...but (2.8-0.7)/2.8 is exactly 75%
    assert easi75(20, 0).percent_reduction == 100
    worse = easi75(10, 12)
    assert (worse.percent_reduction, worse.easi75) == (-20, False)
    with pytest.raises(MeasureError, match="baseline of 0 cannot be computed"):
        easi75(0, 0)
    with pytest.raises(MeasureError, match="easi.followup must be a number 0-72, got 73"):
        easi75(20, 73)


@pytest.mark.parametrize("baseline, followup, responder", [
    (3, 1, True),    # almost clear, 2 grades better
    (2, 0, True),    # clear, 2 grades better
    (4, 1, True),
    (2, 1, False),   # almost clear but only 1 grade better
    (1, 0, False),   # clear but only 1 grade better
    (4, 2, False),   # 2 grades better but not clear/almost clear
    (0, 0, False),
])
def test_iga_responder(baseline, followup, responder):
    assert iga_responder(baseline, followup).responder is responder


def test_responders_input_validation():
    both = compute_responders({"easi": {"baseline": 20, "followup": 5}, "iga": {"baseline": 3, "followup": 1}})
    assert both.easi.easi75 and both.iga.responder and both.iga.improvement == 2
    assert compute_responders({"iga": {"baseline": 3, "followup": 2}}).easi is None
    message = str(pytest.raises(MeasureError, compute_responders,
                                {"easi": {"baseline": 20}, "iga": {"baseline": 5, "followup": 1.5}}).value)
    assert "missing easi.followup" in message and "iga.baseline must be a whole grade 0-4, got 5" in message
    assert "iga.followup must be a whole grade 0-4, got 1.5" in message
    with pytest.raises(MeasureError, match="missing easi or iga"):
        compute_responders({})
    with pytest.raises(MeasureError, match="unknown key"):
        compute_responders({"easi75": {"baseline": 20, "followup": 5}})


# --- cohort report ---------------------------------------------------------------------------------------

def test_cohort_report_on_the_sample_at_week_24():
    report = cohort_report(SAMPLE, 24)
    # Hand-computed TIS at week 24 vs week 0 (see the sample CSV):
    # P01 adult 17.5+7.5+20+7.5+7.5+15 = 75 major   P02 adult 7.5+2.5+10+0+5+0 = 25 minimal
    # P03 adult 15+5+20+7.5+5+7.5 = 60 major        P04 adult everything worse = 0 none
    # P06 adult 17.5+5+20+7.5+7.5+12.5 = 70 major   P07 adult 15+2.5+10+5+5+7.5 = 45 moderate
    # P09 adult 7.5+0+0+0+2.5+0 = 10 none (three changes exactly on an edge: 5%, 2%, 5%)
    # P10 juvenile 15+5+20+7.5+7.5+12.5 = 67.5 moderate (< 70)
    # P11 juvenile 7.5+2.5+10+5+5+0 = 30 minimal    P12 juvenile 20+10+32.5+10+7.5+20 = 100 major
    # P05 has no week-24 visit; P08's week-24 HAQ and enzyme are blank.
    totals = {o.participant: (o.total, o.category) for o in report.outcomes}
    assert totals == {"P01": (75, "major"), "P02": (25, "minimal"), "P03": (60, "major"), "P04": (0, "none"),
                      "P06": (70, "major"), "P07": (45, "moderate"), "P09": (10, "none"),
                      "P10": (67.5, "moderate"), "P11": (30, "minimal"), "P12": (100, "major")}
    assert [(n.participant, n.reason) for n in report.not_evaluable] == [
        ("P05", "no week 24 visit"), ("P08", "week 24: missing haq, enzyme")]
    assert (report.participants, report.evaluable) == (12, 10)
    # cumulative: >= minimal 8, >= moderate 6, major 4
    assert [(r["level"], r["responders"], r["share_of_evaluable"], r["share_of_participants"])
            for r in report.table] == [("minimal", 8, 0.8, 0.6667), ("moderate", 6, 0.6, 0.5),
                                       ("major", 4, 0.4, 0.3333)]


def test_cohort_missing_visits_and_weeks():
    report = cohort_report(SAMPLE, 52)
    assert [(n.participant, n.reason) for n in report.not_evaluable] == [("P12", "no week 52 visit")]
    assert report.evaluable == 11
    with pytest.raises(MeasureError, match="no visit at week 30; weeks present: 0, 12, 24, 52"):
        cohort_report(SAMPLE, 30)
    with pytest.raises(MeasureError, match="after baseline"):
        cohort_report(SAMPLE, 0)


HEADER = "participant,population,week,physician_global,patient_global,mmt8,{extra}haq,enzyme,extramuscular_global\n"


def write_csv(tmp_path: Path, rows: list[str], extra: str = "mmt8_scale,") -> Path:
    path = tmp_path / "visits.csv"
    path.write_text("# synthetic\n" + HEADER.format(extra=extra) + "\n".join(rows) + "\n")
    return path


def test_cohort_data_errors_name_the_participant(tmp_path):
    out_of_range = write_csv(tmp_path, ["A,adult,0,5,5,60,80,1,100,3", "A,adult,12,12,5,60,80,1,100,3"])
    with pytest.raises(MeasureError, match=r"participant A \(week 0 vs week 12\): followup.physician_global = 12"):
        cohort_report(out_of_range, 12)
    scale_change = write_csv(tmp_path, ["A,adult,0,5,5,60,80,1,100,3", "A,adult,12,4,5,120,150,1,100,3"])
    with pytest.raises(MeasureError, match="participant A: mmt8_scale is 80 at week 0 but 150 at week 12"):
        cohort_report(scale_change, 12)
    no_scale = write_csv(tmp_path, ["A,adult,0,5,5,60,1,100,3", "A,adult,12,4,5,64,1,100,3"], extra="")
    with pytest.raises(MeasureError, match="no mmt8_scale"):
        cohort_report(no_scale, 12)
    # physician 5->4 = 10% -> 7.5; MMT (64-60)/80 = 5% -> 10; nothing else changes: total 17.5
    assert cohort_report(no_scale, 12, mmt8_scale=80).outcomes[0].total == 17.5
    short = write_csv(tmp_path, ["A,adult,0,5,5,60,80,1,100,3", "A,adult,12,4,5,64,80"])
    with pytest.raises(MeasureError, match="the row for 'A' has fewer cells than the header has columns"):
        cohort_report(short, 12)
    typo = write_csv(tmp_path, ["A,adult,0,5,5,60,80,1,100,3"], extra="mmt8_scael,")
    with pytest.raises(MeasureError, match=r"visits.csv: unknown column\(s\) mmt8_scael"):
        cohort_report(typo, 12)


def test_cohort_enzyme_settings_columns(tmp_path):
    path = write_csv(tmp_path, ["A,adult,0,5,5,60,80,1,1000,CK,range,0,2000,3",
                                "A,adult,12,5,5,60,80,1,899,CK,range,0,2000,3"],
                     extra="mmt8_scale,")
    path.write_text(path.read_text().replace(
        "haq,enzyme,extramuscular_global", "haq,enzyme,enzyme_name,enzyme_basis,enzyme_range_min,enzyme_range_max,"
                                           "extramuscular_global"))
    # (1000-899)/2000 = 5.05% -> 2.5 points, nothing else changes
    assert cohort_report(path, 12).outcomes[0].total == 2.5
    path.write_text(path.read_text().replace("899,CK", "899,LDH"))
    with pytest.raises(MeasureError, match="enzyme_name is CK at week 0 but LDH at week 12"):
        cohort_report(path, 12)


def test_cohort_plot_png_and_svg(tmp_path):
    report = cohort_report(SAMPLE, 24)
    png = plot_report(report, tmp_path / "response.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    svg = plot_report(report, tmp_path / "sub" / "response.svg")
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "8/10" in svg.read_text()
    with pytest.raises(ValueError, match=".png or .svg"):
        plot_report(report, tmp_path / "response.pdf")


# --- CLI ---------------------------------------------------------------------------------------------------

runner = CliRunner()
cli = typer.Typer()
cli.add_typer(measure_app, name="measure")


def run(*args):
    return runner.invoke(cli, ["measure", *map(str, args)])


def test_cli_tis_json_fields(tmp_path):
    path = tmp_path / "tis.json"
    path.write_text(json.dumps(tis_input({"physician_global": 10}, {"physician_global": 5.99})))
    result = run("tis", path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"population", "measures", "total", "category"} <= set(data)
    assert (data["total"], data["category"]) == (20, "minimal")
    assert set(data["measures"][0]) >= {"measure", "baseline", "followup", "scale_min", "scale_max",
                                        "percent_change", "points"}
    assert [m["measure"] for m in data["measures"]] == ["physician_global", "patient_global", "mmt8", "haq",
                                                          "enzyme", "extramuscular_global"]
    human = run("tis", path)
    assert human.exit_code == 0 and "Total: 20 of 100" in human.stdout and "minimal" in human.stdout


@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read"),
    ("{not json", "invalid JSON"),
    (json.dumps({"population": "adult"}), "missing mmt8_scale"),
    (json.dumps(tis_input({"physician_global": 11})), "baseline.physician_global = 11 is outside its scale 0-10"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, content, fragment):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    for command in ("tis", "cdasi", "mmt8", "responders") if content is None else ("tis",):
        result = run(command, path)
        assert result.exit_code == 2
        assert isinstance(result.exception, SystemExit)  # reported, not a traceback
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("trialscout: error: ")
        assert fragment in lines[0] and "input.json" in lines[0]


def test_cli_cdasi_mmt8_responders_json(tmp_path):
    cdasi = tmp_path / "cdasi.json"
    cdasi.write_text(json.dumps(cdasi_input(malar={"erythema": 3}, alopecia=1)))
    data = json.loads(run("cdasi", cdasi, "--json").stdout)
    assert (data["activity"], data["damage"], data["per_site"]["malar"]["activity"]) == (4, 0, 3)
    mmt8 = tmp_path / "mmt8.json"
    mmt8.write_text(json.dumps({"scale": 80, "scores": dict.fromkeys(MUSCLES, 9)}))
    assert json.loads(run("mmt8", mmt8, "--json").stdout)["total"] == 72
    resp = tmp_path / "resp.json"
    resp.write_text(json.dumps({"easi": {"baseline": 20, "followup": 5}, "iga": {"baseline": 2, "followup": 1}}))
    data = json.loads(run("responders", resp, "--json").stdout)
    assert data["easi"]["easi75"] is True and data["iga"]["responder"] is False
    assert "EASI-75 yes" in run("responders", resp).stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cdasi_input(scalp={"erythema": 5})))
    result = run("cdasi", bad)
    assert result.exit_code == 2 and "sites.scalp.erythema must be a whole number 0-3" in result.stderr


def test_cli_cohort(tmp_path):
    csv_path = tmp_path / "cohort.csv"
    shutil.copy(SAMPLE, csv_path)
    result = run("cohort", csv_path, "--week", 24, "--plot", tmp_path / "r.svg", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["responders"] for r in data["table"]] == [8, 6, 4] and data["cumulative"] is True
    assert [n["participant"] for n in data["not_evaluable"]] == ["P05", "P08"]
    assert Path(data["plot"]).stat().st_size > 0
    human = run("cohort", csv_path, "--week", 24)
    assert human.exit_code == 0 and "cumulative" in human.stdout and "P08: week 24: missing haq, enzyme" in human.stdout
    missing_week = run("cohort", csv_path, "--week", 30)
    assert missing_week.exit_code == 2 and "no visit at week 30" in missing_week.stderr
    bad_plot = run("cohort", csv_path, "--week", 24, "--plot", tmp_path / "r.pdf")
    assert bad_plot.exit_code == 2 and ".png or .svg" in bad_plot.stderr
    gone = run("cohort", tmp_path / "none.csv", "--week", 24)
    assert gone.exit_code == 2 and "cannot read" in gone.stderr
