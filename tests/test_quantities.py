"""Quantity layer of the criteria engine: units, numbers, comparators, thresholds."""

from __future__ import annotations

import random

import pytest

from trialscout.criteria.numbers import normalize_text, parse_comparator, parse_number
from trialscout.criteria.thresholds import Threshold, find_thresholds
from trialscout.criteria.units import UnitError, compatible, convert, dimension_of, normalize_unit

# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("cells/microliter", "1/uL"), ("cells/uL", "1/uL"), ("/mm3", "1/uL"), ("/mm³", "1/uL"),
        ("/µl", "1/uL"), ("/μl", "1/uL"), ("cells/mm^3", "1/uL"), ("/cumm", "1/uL"),
        ("x10^9/L", "1e9/L"), ("× 10⁹/L", "1e9/L"), ("10^9/L", "1e9/L"), ("10*9/L", "1e9/L"),
        ("G/L", "1e9/L"), ("x 10^9 cells/L", "1e9/L"), ("x 10^12/L", "1e12/L"),
        ("g/dL", "g/dL"), ("g/dl", "g/dL"), ("gm/dL", "g/dL"), ("gm", "g/dL"), ("gm%", "g/dL"), ("g%", "g/dL"),
        ("g/L", "g/L"), ("g/l", "g/L"),
        ("mg/dL", "mg/dL"), ("mg/dl", "mg/dL"), ("mg%", "mg/dL"),
        ("µmol/L", "umol/L"), ("umol/L", "umol/L"), ("μmol/l", "umol/L"), ("micromol/L", "umol/L"),
        ("mmol/L", "mmol/L"),
        ("U/L", "U/L"), ("IU/L", "IU/L"), ("units/L", "U/L"), ("IU/ml", "IU/mL"), ("µkat/L", "ukat/L"),
        ("mL/min", "mL/min"), ("ml/min", "mL/min"),
        ("mL/min/1.73m2", "mL/min/(1.73 m^2)"), ("mL/min/1.73 m²", "mL/min/(1.73 m^2)"),
        ("ml/min per 1.73 m2", "mL/min/(1.73 m^2)"),
        ("kg/m2", "kg/m^2"), ("kg/m²", "kg/m^2"),
        ("mg/day", "mg/day"), ("mg/d", "mg/day"), ("mg daily", "mg/day"), ("mg per day", "mg/day"),
        ("mg/kg/day", "mg/kg/day"), ("mg/kg", "mg/kg"), ("mg", "mg"), ("g", "g"), ("mcg", "ug"), ("µg", "ug"),
        ("%", "%"), ("mmHg", "mmHg"), ("kg", "kg"), ("cm", "cm"),
        ("years", "year"), ("weeks", "week"), ("days", "day"), ("months", "month"),
        ("ng/mL", "ng/mL"), ("pg/mL", "pg/mL"), ("mIU/mL", "mIU/mL"), ("copies/mL", "copies/mL"),
        ("IU/mL", "IU/mL"), ("ML/MIN", "mL/min"),
    ],
)
def test_normalize_unit(raw: str, canonical: str) -> None:
    assert normalize_unit(raw) == canonical
    convert(1.0, canonical, canonical)  # every canonical spelling parses in the registry


@pytest.mark.parametrize("raw", ["", "foo", "x ULN", "ULN", "patients", "/150", "Gi/L/foo", "x" * 200])
def test_unknown_units(raw: str) -> None:
    assert normalize_unit(raw) is None


def test_giga_vs_gram_per_litre() -> None:
    assert normalize_unit("G/L") == "1e9/L"
    assert normalize_unit("g/L") == "g/L"
    assert dimension_of("G/L") != dimension_of("g/L")


def test_conversions() -> None:
    assert convert(100_000, "1/uL", "1e9/L") == pytest.approx(100)
    assert convert(100_000, "/uL", "1e9/L") == pytest.approx(100)  # "/uL" written without the 1
    assert convert(1, "1e9/L", "1/uL") == pytest.approx(1000)
    assert convert(1000, "cells/mm3", "x10^9/L") == pytest.approx(1.0)  # raw aliases accepted too
    assert convert(1.5, "mg/dL", "umol/L", molar_mass=113.12) == pytest.approx(132.6, abs=0.05)
    assert convert(1, "mg/dL", "umol/L", molar_mass=113.12) == pytest.approx(88.4, abs=0.05)
    assert convert(1, "mg/dL", "umol/L", molar_mass=584.66) == pytest.approx(17.1, abs=0.01)
    assert convert(26, "umol/L", "mg/dL", molar_mass=584.66) == pytest.approx(1.52, abs=0.01)
    assert convert(60, "U/L", "ukat/L") == pytest.approx(1.0)
    assert convert(1, "ukat/L", "IU/L") == pytest.approx(60.0)
    assert convert(10, "g/dL", "g/L") == pytest.approx(100)
    assert convert(37, "degC", "degF") == pytest.approx(98.6)  # offset units survive the factor cache
    assert convert(2, "weeks", "days") == pytest.approx(14)
    assert convert(50, "%", "1") == pytest.approx(0.5)


def test_compatible_and_dimension() -> None:
    assert compatible("1/uL", "1e9/L")
    assert not compatible("mg/dL", "umol/L")
    assert compatible("mg/dL", "umol/L", molar_mass=113.12)
    assert dimension_of("%") == "dimensionless"
    assert dimension_of("cells/uL") == dimension_of("1e9/L")


@pytest.mark.parametrize(("a", "b"), [("mg/dL", "mL/min"), ("U/L", "g/dL"), ("mg/dL", "umol/L"), ("zorkmid", "g/L")])
def test_incompatible_units_raise(a: str, b: str) -> None:
    with pytest.raises(UnitError) as exc:
        convert(1.0, a, b)
    assert a in str(exc.value) and b in str(exc.value)
    assert isinstance(exc.value, ValueError)


# --- numbers and comparators -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100,000", 100_000), ("100 000", 100_000), ("1.5", 1.5), (".5", 0.5), ("3.0x10^9", 3e9),
        ("3.0 x 10^9", 3e9), ("1.5 × 10⁹", 1.5e9), ("10^9", 1e9), ("10⁹", 1e9), ("10e9", 1e10),
        ("1,5", 1.5), ("1,25", 1.25), ("1,500", 1500), ("two", 2), ("Three", 3), ("twelve", 12),
        ("１０", 10), ("2 x 10⁻³", 0.002),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1.234,5", "thirteen", "1,2,3", "10 mg"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("<", "<"), ("<=", "<="), ("=<", "<="), ("≤", "<="), ("⩽", "<="), (">", ">"), (">=", ">="), ("=>", ">="),
        ("≥", ">="), ("⩾", ">="), ("=", "="), ("≧", ">="), ("≦", "<="), ("＜", "<"), ("＞", ">"),
        ("less than", "<"), ("lower than", "<"), ("below", "<"), ("under", "<"), ("fewer than", "<"),
        ("no more than", "<="), ("not more than", "<="), ("not exceeding", "<="), ("not to exceed", "<="),
        ("at most", "<="), ("up to", "<="), ("maximum", "<="), ("maximum of", "<="),
        ("greater than", ">"), ("more than", ">"), ("higher than", ">"), ("above", ">"), ("over", ">"),
        ("exceeding", ">"), ("in excess of", ">"), ("at least", ">="), ("no less than", ">="),
        ("not less than", ">="), ("minimum", ">="), ("minimum of", ">="),
        ("greater than or equal to", ">="), ("less than or equal to", "<="), ("equal to or greater than", ">="),
        ("equal to or less than", "<="), ("< or =", "<="), ("Greater  Than", ">"),
        ("or more", ">="), ("or greater", ">="), ("or higher", ">="), ("or less", "<="), ("or lower", "<="),
        ("or below", "<="), ("and older", ">="),
    ],
)
def test_parse_comparator(text: str, op: str) -> None:
    assert parse_comparator(text) == op


def test_parse_comparator_rejects() -> None:
    assert parse_comparator("patients") is None
    assert parse_comparator("") is None


def test_normalize_text_keeps_length_and_offsets() -> None:
    raw = "ＡＮＣ\u00a0≧１．５\u2009×\u202f10⁹/L – Hb ≦ 10 μmol/l µg ＜１０"
    out = normalize_text(raw)
    assert len(out) == len(raw)
    assert out == "ANC ≥1.5 x 10⁹/L - Hb ≤ 10 umol/l ug <10"  # superscripts deliberately kept


# --- thresholds --------------------------------------------------------------------------------


def T(op: str, value: float, unit: str | None = None, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "op": op, "value": value, "unit": unit, "relative_to": None, "sex": None,
        "high": None, "scale_max": None, "alternative": False,
    }
    base.update(kw)
    return base


CASES: list[tuple[str, list[dict[str, object]]]] = [
    (
        "Total WBC count <2500 cells/microliter; Absolute neutrophil count <= 1000/mm3; "
        "platelets <= 100,000/microliter; hemoglobin <= 10gm",
        [T("<", 2500, "1/uL"), T("<=", 1000, "1/uL"), T("<=", 100_000, "1/uL"), T("<=", 10, "g/dL")],
    ),
    ("AST or ALT > 2.5 x ULN", [T(">", 2.5, relative_to="ULN")]),
    ("ALT ≥3×ULN", [T(">=", 3, relative_to="ULN")]),
    (
        "serum creatinine > 1.5 mg/dL or creatinine clearance < 60 mL/min",
        [T(">", 1.5, "mg/dL"), T("<", 60, "mL/min")],
    ),
    (
        "hemoglobin < 9 g/dL in males and < 8 g/dL in females",
        [T("<", 9, "g/dL", sex="male"), T("<", 8, "g/dL", sex="female")],
    ),
    ("ANC ≥ 1.5 x 10^9/L", [T(">=", 1.5, "1e9/L")]),
    ("platelets at least 100 x 10⁹/L", [T(">=", 100, "1e9/L")]),
    ("eGFR less than 30 mL/min/1.73 m2", [T("<", 30, "mL/min/(1.73 m^2)")]),
    ("BMI between 18 and 35 kg/m2", [T("between", 18, "kg/m^2", high=35)]),
    ("CK greater than or equal to 3 times the upper limit of normal", [T(">=", 3, relative_to="ULN")]),
    ("bilirubin =< 1.5 × institutional ULN", [T("<=", 1.5, relative_to="ULN")]),
    ("age 18-75 years", [T("between", 18, "year", high=75)]),
    ("age 18 – 75 years", [T("between", 18, "year", high=75)]),
    ("aged 18 to 75 years", [T("between", 18, "year", high=75)]),
    ("from 5 to 10", [T("between", 5, high=10)]),
    ("prednisone > 20 mg/day", [T(">", 20, "mg/day")]),
    ("no more than 0.5 mg/kg/day", [T("<=", 0.5, "mg/kg/day")]),
    ("INR > 1.5", [T(">", 1.5)]),
    ("CDASI >=12", [T(">=", 12)]),
    ("MMT-8 of <136/150", [T("<", 136, scale_max=150)]),
    (
        "total bilirubin ≤ 1.5 mg/dl (≤ 26 µmol/l)",
        [T("<=", 1.5, "mg/dL"), T("<=", 26, "umol/L", alternative=True)],
    ),
    ("Hb ≥ 10 g/dL (100 g/L)", [T(">=", 10, "g/dL"), T(">=", 100, "g/L", alternative=True)]),
    ("Hb ≥ 100 g/l", [T(">=", 100, "g/L")]),
    ("neutrophils ≥ 1.5 G/L", [T(">=", 1.5, "1e9/L")]),
    ("full-width digits like ＜１０", [T("<", 10)]),
    ("ＡＬＴ　≦　２．５　×　ＵＬＮ", [T("<=", 2.5, relative_to="ULN")]),
    ("ANC\u00a0≥\u00a01.5\u00a0×\u00a010⁹/L", [T(">=", 1.5, "1e9/L")]),
    ("bilirubin ≤ 26 μmol/L", [T("<=", 26, "umol/L")]),
    ("20 mg or more", [T(">=", 20, "mg")]),
    ("18 years of age or older", [T(">=", 18, "year")]),
    ("two or more prior lines", [T(">=", 2)]),
    ("at least two prior therapies", [T(">=", 2)]),
    ("< 6 months", [T("<", 6, "month")]),
    ("> ULN", [T(">", 1.0, relative_to="ULN")]),
    ("hemoglobin below the lower limit of normal", [T("<", 1.0, relative_to="LLN")]),
    ("T-score ≤ -2.5", [T("<=", -2.5)]),
    ("BP > 140/90 mmHg", [T(">", 140, "mmHg"), T(">", 90, "mmHg")]),
    ("Hb < 9 (men) or < 8 (women)", [T("<", 9, sex="male"), T("<", 8, sex="female")]),
    ("males: Hb < 13 g/dL; females < 12 g/dL", [T("<", 13, "g/dL"), T("<", 12, "g/dL", sex="female")]),
    ("HBV DNA < 10⁴ IU/mL", [T("<", 10_000, "IU/mL")]),
    ("fever > 38.5 °C", [T(">", 38.5, "degC")]),
    ("WBC ≥ 3.0x10^9 cells/L", [T(">=", 3.0, "1e9/L")]),
    ("ALT greater than (>) 3 times the upper limit", [T(">", 3, relative_to="ULN")]),
    ("LVEF ≥ 50%", [T(">=", 50, "%")]),
    ("platelets > 100 x 109/l", [T(">", 100, "1e9/L")]),  # lost superscript in registry text
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_find_thresholds(text: str, expected: list[dict[str, object]]) -> None:
    found = find_thresholds(text)
    got = [
        {k: getattr(t, k) for k in ("op", "value", "unit", "relative_to", "sex", "high", "scale_max", "alternative")}
        for t in found
    ]
    for g, e in zip(got, expected):
        assert g["value"] == pytest.approx(e["value"])
        g["value"] = e["value"]
    assert got == expected


@pytest.mark.parametrize(("text", "_"), CASES, ids=[c[0][:40] for c in CASES])
def test_offsets_cover_comparator_number_unit(text: str, _: object) -> None:
    for t in find_thresholds(text):
        span = text[t.start : t.end]
        assert span == span.strip() and span
        if t.unit_text:  # trailing comparators ("20 mg or more") follow the unit
            assert t.unit_text in span
            assert span.endswith(t.unit_text) or parse_comparator(span[span.index(t.unit_text) + len(t.unit_text):])
        if t.op != "between" and not span[0].isdigit() and t.value >= 0:
            assert parse_comparator(span[0]) or span[0].isalpha() or span[0] == "-"


def test_offsets_exact() -> None:
    text = "Labs: ANC ≥ 1.5 x 10^9/L; AST > 2.5 x ULN; 20 mg or more; age 18-75 years"
    spans = [text[t.start : t.end] for t in find_thresholds(text)]
    assert spans == ["≥ 1.5 x 10^9/L", "> 2.5 x ULN", "20 mg or more", "18-75 years"]
    th = find_thresholds(text)[0]
    assert th.unit_text == "x 10^9/L"


def test_unit_text_is_original_spelling() -> None:
    (t,) = find_thresholds("bilirubin ≤ 26 μmol/L")
    assert t.unit_text == "μmol/L" and t.unit == "umol/L"


def test_start_end_window() -> None:
    text = "creatinine > 1.5 mg/dL; ALT > 3 x ULN; INR > 1.5"
    a = text.index("ALT")
    found = find_thresholds(text, a, a + len("ALT > 3 x ULN"))
    assert [(t.op, t.value, t.relative_to) for t in found] == [(">", 3.0, "ULN")]
    assert text[found[0].start : found[0].end] == "> 3 x ULN"
    assert find_thresholds(text, 0, 0) == []
    assert find_thresholds(text, 10_000) == []


@pytest.mark.parametrize(
    "text",
    [
        "within 12 weeks of randomisation", "treated for 4 weeks", "NCT01234567", "COVID-19",
        "ECOG performance status 2", "protocol version 3.2 dated 2020-01-15", "between 2019-2020?",
        "patients aged 18", "3 x ULN", "titer 1:80", "",
    ],
)
def test_bare_numbers_are_not_thresholds(text: str) -> None:
    found = find_thresholds(text)
    if text == "between 2019-2020?":  # a keyword range is returned even for years; the caller decides
        assert [t.op for t in found] == ["between"]
    else:
        assert found == []


def test_threshold_is_frozen_value_object() -> None:
    t = Threshold("<", 1.0)
    with pytest.raises(AttributeError):
        t.value = 2.0  # type: ignore[misc]
    assert t.alternative is False and t.start == 0


def test_large_input_is_bounded() -> None:
    text = ("Hb ≥ 9 g/dL and ANC ≥ 1.5 x 10^9/L; " * 3000)[:100_000]
    found = find_thresholds(text)
    assert isinstance(found, list) and len(found) > 5000


@pytest.mark.parametrize(
    "junk",
    [
        bytes(random.Random(7).randrange(256) for _ in range(100_000)).decode("latin-1"),
        "<" * 100_000, "1" * 100_000, "1," * 50_000, "< 1 " * 25_000, "between 1 " * 10_000,
        "1 x " * 25_000, "(" * 100_000, "1-" * 50_000, "upper limit of " * 6_000, "10^" * 30_000,
    ],
    ids=["latin1-bytes", "lt", "digits", "commas", "cmp-num", "between", "times", "parens", "dashes", "uln", "pow"],
)
def test_garbage_input_finishes(junk: str) -> None:
    assert isinstance(find_thresholds(junk), list)
