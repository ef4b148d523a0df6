"""split_criteria on hand-made layouts and on the real ClinicalTrials.gov samples in ../shared."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from trialscout.criteria import CriterionItem, split_criteria
from trialscout.sources import read_path
from trialscout.sources.ctgov_xml import parse_xml_record

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (real CT.gov samples) is absent")


def _criteria(path: Path) -> dict[str, str | None]:
    out = {}
    for item in read_path(path):
        elig = getattr(item, "eligibility", None)
        if elig is not None:
            out[item.id] = elig.criteria
    return out


@pytest.fixture(scope="module")
def api_texts() -> dict[str, str | None]:
    return _criteria(SHARED / "ctgov" / "ctg-studies-sample.json")


@pytest.fixture(scope="module")
def xml_texts() -> dict[str, str | None]:
    out = {}
    with zipfile.ZipFile(SHARED / "ctgov" / "AllPublicXML-sample.zip") as z:
        names = sorted(n for n in z.namelist() if n.endswith(".xml"))
        for name in names[::20]:
            trial = parse_xml_record(z.read(name), name)
            out[trial.id] = trial.eligibility.criteria if trial.eligibility else None
    return out


def _check_spans(text: str, items: tuple[CriterionItem, ...] | list[CriterionItem]) -> None:
    for it in items:
        assert 0 <= it.start < it.end <= len(text)
        first = it.text.split()[0] if it.text.split() else ""
        assert first in text[it.start:it.end]
        _check_spans(text, it.children)


# --- real records ---------------------------------------------------------------------------

@needs_shared
def test_seed_nct07012057_exact_structure():
    text = _criteria(SHARED / "seed-trials" / "seed-trials.json")["NCT07012057"]
    items = split_criteria(text)
    inc = [i for i in items if i.kind == "inclusion"]
    exc = [i for i in items if i.kind == "exclusion"]
    # 12 bullets + the free-standing "Note: Doses/Timelines..." paragraph; the intro sentences are not items.
    assert len(inc) == 13 and len(exc) == 36
    assert {i.section for i in inc} == {"Inclusion Criteria"}
    assert {i.section for i in exc} == {"Exclusion Criteria"}
    assert not any(i.text.startswith(("In order to be eligible", "An individual who meets")) for i in items)
    refractory = inc[5]
    assert refractory.text.startswith("Refractory myositis") and refractory.text.endswith("following doses:")
    assert len(refractory.children) == 13
    assert refractory.children[0].text.startswith("Corticosteroids: 20mg/day")
    abatacept = refractory.children[11]
    assert abatacept.text == "Abatacept:"
    assert [c.text for c in abatacept.children] == ["IV 10mg/kg or 750mg every 4 weeks for 12 weeks",
                                                   "SQ 125mg weekly for at least 12 weeks"]
    tocilizumab = refractory.children[12]
    assert [c.text[:2] for c in tocilizumab.children] == ["IV", "SQ"]  # "---IV" is a marker too
    active = next(i for i in inc if i.text.startswith("Active disease"))
    assert [c.text for c in active.children][-1] == "Health Assessment Questionnaire (HAQ) score of >= 0.75"
    assert inc[6].text.startswith("Note: Doses/Timelines") and not inc[6].children
    last = exc[-1]
    assert last.text == ("Total WBC count <2500 cells/microliter; Absolute neutrophil count <= 1000/mm3; "
                         "platelets <= 100,000/microliter; hemoglobin <= 10gm")
    assert text[last.start:last.end] == "* " + last.text  # the span starts at the marker
    # a parent's span covers its sub-conditions
    assert text[refractory.start:refractory.end].rstrip().endswith("every 2 weeks for at least 12 weeks")
    _check_spans(text, items)


@needs_shared
def test_legacy_nci_layout(xml_texts):
    text = xml_texts["NCT00001296"]
    assert "DISEASE CHARACTERISTICS:" in text
    items = split_criteria(text)
    assert {i.kind for i in items} == {"inclusion"}  # NCI sub-headings sit within inclusion
    sections = [i.section for i in items]
    assert sections[0] == "DISEASE CHARACTERISTICS"
    assert "PRIOR/CONCURRENT THERAPY" in sections and "PATIENT CHARACTERISTICS" in sections
    first = items[0]
    # hard-wrapped line joined with one space
    assert first.text == ("Biopsy-proven Stage IIIA or IIIAB melanoma (M.D. Anderson staging system) "
                          "of an extremity, as follows:")
    assert next(i for i in items if i.text.startswith("Age:")).text == "Age: 18 and over."
    _check_spans(text, items)


# --- layouts ----------------------------------------------------------------------------------

def test_no_headings_is_unknown():
    text = "Age 18 or older.\nSigned informed consent.\nNo prior chemotherapy."
    items = split_criteria(text)
    assert [(i.kind, i.text, i.section) for i in items] == [
        ("unknown", "Age 18 or older.", None), ("unknown", "Signed informed consent.", None),
        ("unknown", "No prior chemotherapy.", None)]


def test_wrapped_lines_join():
    text = ("Inclusion Criteria:\n\n"
            "  -  Histologically confirmed adenocarcinoma of the pancreas that is not amenable to\n"
            "     curative resection, with measurable disease per RECIST version 1.1 criteria\n"
            "  -  ECOG 0-1\n"
            "Patients must have adequate bone marrow function as shown by the laboratory tests\n"
            "listed in the protocol appendix.\n")
    items = split_criteria(text)
    assert [i.text for i in items] == [
        "Histologically confirmed adenocarcinoma of the pancreas that is not amenable to curative resection, "
        "with measurable disease per RECIST version 1.1 criteria",
        "ECOG 0-1",
        "Patients must have adequate bone marrow function as shown by the laboratory tests listed in the "
        "protocol appendix."]
    assert all(i.kind == "inclusion" for i in items)
    _check_spans(text, items)


def test_numbered_with_lettered_children():
    text = ("INCLUSION CRITERIA\n"
            "1. Age >= 18\n"
            "2) Adequate organ function defined as:\n"
            "a. ANC ≥ 1.5 × 10⁹/L\n"
            "b. Platelets ≥ 100 000/µL\n"
            "(c) Creatinine ≤ 1.5 × ULN\n"
            "3. Signed consent\n"
            "EXCLUSION CRITERIA\n"
            "1. Pregnancy\n"
            "2. Any of the following:\n"
            "   1. Heart failure\n"
            "   2. Stroke\n")
    items = split_criteria(text)
    assert [(i.kind, i.text, len(i.children)) for i in items] == [
        ("inclusion", "Age >= 18", 0), ("inclusion", "Adequate organ function defined as:", 3),
        ("inclusion", "Signed consent", 0), ("exclusion", "Pregnancy", 0),
        ("exclusion", "Any of the following:", 2)]
    assert [c.text for c in items[1].children] == ["ANC ≥ 1.5 × 10⁹/L", "Platelets ≥ 100 000/µL",
                                                   "Creatinine ≤ 1.5 × ULN"]
    assert [c.text for c in items[4].children] == ["Heart failure", "Stroke"]
    assert items[0].section == "INCLUSION CRITERIA" and items[4].section == "EXCLUSION CRITERIA"
    _check_spans(text, items)


@pytest.mark.parametrize("inc_head,exc_head,inc_sec,exc_sec", [
    ("Key Inclusion Criteria:", "Key Exclusion Criteria:", "Key Inclusion Criteria", "Key Exclusion Criteria"),
    ("INCLUSION:", "EXCLUSION:", "INCLUSION", "EXCLUSION"),
    ("**Inclusion criteria**", "## Exclusion criteria", "Inclusion criteria", "Exclusion criteria"),
    ("Patients must meet the following criteria:", "Participants are not eligible if",
     "Patients must meet the following criteria", "Participants are not eligible if"),
    ("Inclusion Criteria:", "Patients must not:", "Inclusion Criteria", "Patients must not"),
])
def test_heading_variants(inc_head, exc_head, inc_sec, exc_sec):
    text = f"{inc_head}\n\n* Adults with psoriasis\n* BMI < 40\n\n{exc_head}\n\n• Pregnant\n· Active infection\n"
    items = split_criteria(text)
    assert [(i.kind, i.text, i.section) for i in items] == [
        ("inclusion", "Adults with psoriasis", inc_sec), ("inclusion", "BMI < 40", inc_sec),
        ("exclusion", "Pregnant", exc_sec), ("exclusion", "Active infection", exc_sec)]


def test_inline_heading_and_odd_unicode():
    text = "DISEASE CHARACTERISTICS: Stage IV\u00a0disease, HbA1c ≤ ７%\n\nExclusion Criteria: o HIV positive"
    items = split_criteria(text)
    assert [(i.kind, i.text, i.section) for i in items] == [
        ("inclusion", "Stage IV\u00a0disease, HbA1c ≤ ７%", "DISEASE CHARACTERISTICS"),
        ("exclusion", "o HIV positive", "Exclusion Criteria")]
    _check_spans(text, items)


def test_crlf_offsets():
    text = "Inclusion Criteria:\r\n\r\n- Age 18+\r\n- Consent\r\n"
    items = split_criteria(text)
    assert [i.text for i in items] == ["Age 18+", "Consent"]
    assert text[items[1].start:items[1].end] == "- Consent"


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [None, "", "   \n\n\t"])
def test_empty(bad):
    assert split_criteria(bad) == []


def test_large_and_garbage_bounded():
    big = ("Inclusion Criteria:\n\n" + "* Adequate hepatic function with bilirubin below 1.5 x ULN\n" * 1800)[:100_000]
    garbage = bytes(range(256)).decode("latin-1") * 400 + "\x00\ufffd" * 2000
    one_line = "x" * 100_000
    for text in (big, garbage, one_line, "-" * 100_000, "1. " * 30_000, ":\n" * 50_000):
        t = time.perf_counter()
        items = split_criteria(text)
        assert time.perf_counter() - t < 0.5
        assert isinstance(items, list)
    assert len(split_criteria(big)) >= 1690


# --- corpus -----------------------------------------------------------------------------------

@needs_shared
def test_corpus_api_v2(api_texts):
    texts = [t for t in api_texts.values() if t and t.strip()]
    assert len(texts) >= 250
    both = 0
    for text in texts:
        items = split_criteria(text)
        assert items
        _check_spans(text, items)
        kinds = {i.kind for i in items}
        both += {"inclusion", "exclusion"} <= kinds
    assert both / len(texts) >= 0.97  # measured 248/251 = 98.8%


@needs_shared
def test_corpus_legacy_xml(xml_texts):
    texts = [t for t in xml_texts.values() if t and t.strip()]
    assert len(texts) >= 300
    headed = 0
    for text in texts:
        items = split_criteria(text)
        assert items
        _check_spans(text, items)
        headed += any(i.kind != "unknown" for i in items)
    assert headed / len(texts) >= 0.78  # measured 276/340 = 81%; the rest are "Please contact site..." notes or unheaded prose


@needs_shared
def test_speed(api_texts):
    texts = [t for t in api_texts.values() if t]
    for text in texts:  # warm caches
        split_criteria(text)
    t = time.perf_counter()
    for text in texts:
        split_criteria(text)
    per_text = (time.perf_counter() - t) / len(texts)
    assert per_text < 0.001  # ~0.14 ms measured; loose bound so a slow CI box does not flake
