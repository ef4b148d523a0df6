"""The curated concept lexicon (src/trialscout/criteria/lexicon.json): shape, uniqueness, references, codes, coverage."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from conftest import SEEDS, need_shared

CATEGORIES = ["labs", "scores", "drug_classes", "drugs", "conditions", "procedures", "vaccines", "devices"]

# required keys and the types each may take (None means JSON null is allowed)
SCHEMA = {
    "labs": {"name": (str,), "synonyms": (list,), "loinc": (str, type(None)), "unit": (str, type(None)),
             "molar_mass": (int, float, type(None))},
    "scores": {"name": (str,), "synonyms": (list,), "min": (int, float, type(None)), "max": (int, float, type(None)),
               "higher_is": (str, type(None))},
    "drug_classes": {"name": (str,), "synonyms": (list,), "parent": (str, type(None))},
    "drugs": {"name": (str,), "synonyms": (list,), "classes": (list,), "atc": (str, type(None))},
    "conditions": {"name": (str,), "synonyms": (list,), "icd10": (str, type(None)), "parent": (str, type(None))},
    "procedures": {"name": (str,), "synonyms": (list,)},
    "vaccines": {"name": (str,), "synonyms": (list,), "live": (bool, type(None))},
    "devices": {"name": (str,), "synonyms": (list,)},
}
OPTIONAL = {"scores": {"unit": (str,), "scales": (list,)}, "procedures": {"diagnostic": (bool,)},
            "labs": {"plausible": (list,), "unitless": (list,), "normal": (list,)}, "drugs": {"class_min_weekly_mg": (dict,)},
            "drug_classes": {"local": (bool,)}}

LOINC = re.compile(r"^\d{1,6}-\d$")
ATC = re.compile(r"^[A-Z]\d\d[A-Z]{2}\d\d$|^[A-Z]\d\d[A-Z]{2}$")
ICD10 = re.compile(r"^[A-Z]\d\d(\.\w{1,4})?$")


@pytest.fixture(scope="module")
def lex() -> dict:
    with files("trialscout.criteria").joinpath("lexicon.json").open("r", encoding="utf-8") as fh:
        return json.load(fh)


def test_top_level(lex):
    assert isinstance(lex.get("version"), str) and re.match(r"^\d{4}-\d{2}-\d{2}\.\d+$", lex["version"])
    assert isinstance(lex.get("about"), str) and len(lex["about"]) > 200
    for word in ("LOINC", "ATC", "ICD-10", "verif"):
        assert word.lower() in lex["about"].lower()
    for cat in CATEGORIES:
        assert isinstance(lex.get(cat), list) and lex[cat], cat


@pytest.mark.parametrize("cat", CATEGORIES)
def test_schema(lex, cat):
    required, optional = SCHEMA[cat], OPTIONAL.get(cat, {})
    for concept in lex[cat]:
        assert isinstance(concept, dict)
        missing = set(required) - set(concept)
        assert not missing, (cat, concept.get("name"), missing)
        extra = set(concept) - set(required) - set(optional)
        assert not extra, (cat, concept["name"], extra)
        for key, value in concept.items():
            types = required.get(key) or optional[key]
            assert isinstance(value, types) and not (isinstance(value, bool) and bool not in types), \
                (cat, concept["name"], key, value)


@pytest.mark.parametrize("cat", CATEGORIES)
def test_strings_clean(lex, cat):
    for concept in lex[cat]:
        for text in [concept["name"], *concept["synonyms"]]:
            assert isinstance(text, str) and text, (cat, concept["name"])
            assert text == text.strip() and "  " not in text, (cat, repr(text))


@pytest.mark.parametrize("cat", CATEGORIES)
def test_synonyms_unique_within_category(lex, cat):
    owner: dict[str, str] = {}
    clashes = []
    for concept in lex[cat]:
        terms = [concept["name"], *concept["synonyms"]]
        lowered = [t.lower() for t in terms]
        assert len(lowered) == len(set(lowered)), (cat, concept["name"], "repeats a term")
        for term in lowered:
            if term in owner:
                clashes.append((term, owner[term], concept["name"]))
            owner[term] = concept["name"]
    assert not clashes, clashes


def _check_tree(nodes: dict[str, str | None]) -> None:
    for name, parent in nodes.items():
        seen = {name}
        while parent is not None:
            assert parent in nodes, (name, parent)
            assert parent not in seen, ("cycle", name, parent)
            seen.add(parent)
            parent = nodes[parent]


def test_class_and_condition_hierarchies(lex):
    _check_tree({c["name"]: c["parent"] for c in lex["drug_classes"]})
    _check_tree({c["name"]: c["parent"] for c in lex["conditions"]})


def test_drug_classes_exist(lex):
    classes = {c["name"] for c in lex["drug_classes"]}
    for drug in lex["drugs"]:
        assert all(isinstance(k, str) for k in drug["classes"])
        unknown = set(drug["classes"]) - classes
        assert not unknown, (drug["name"], unknown)


def test_scores(lex):
    for score in lex["scores"]:
        assert score["higher_is"] in ("worse", "better", None), score["name"]
        if score["min"] is not None and score["max"] is not None:
            assert score["min"] <= score["max"], score["name"]
        for scale in score.get("scales", []):
            assert isinstance(scale, (int, float)) and (score["max"] is None or scale <= score["max"])


def test_codes(lex):
    for lab in lex["labs"]:
        assert lab["loinc"] is None or LOINC.match(lab["loinc"]), (lab["name"], lab["loinc"])
        assert lab["molar_mass"] is None or lab["molar_mass"] > 0
    for drug in lex["drugs"]:
        assert drug["atc"] is None or ATC.match(drug["atc"]), (drug["name"], drug["atc"])
    for cond in lex["conditions"]:
        assert cond["icd10"] is None or ICD10.match(cond["icd10"]), (cond["name"], cond["icd10"])


def test_codes_unique(lex):
    for cat, key in (("labs", "loinc"), ("drugs", "atc"), ("conditions", "icd10")):
        codes = [c[key] for c in lex[cat] if c[key]]
        dupes = {x for x in codes if codes.count(x) > 1}
        assert not dupes, (cat, dupes)


def _concept(lex, cat, name):
    hits = [c for c in lex[cat] if c["name"] == name]
    assert hits, (cat, name)
    return hits[0]


def test_required_concepts_present(lex):
    names = {cat: {c["name"] for c in lex[cat]} for cat in CATEGORIES}
    for lab in ("white blood cell count", "absolute neutrophil count", "platelet count", "hemoglobin",
                "serum creatinine", "creatinine clearance", "creatine kinase", "aldolase", "prothrombin time",
                "QTc interval", "left ventricular ejection fraction", "HIV viral load", "CD4 count"):
        assert lab in names["labs"], lab
    assert "PT" not in _concept(lex, "labs", "prothrombin time")["synonyms"]
    assert _concept(lex, "labs", "QTc interval")["unit"] == "ms"
    assert _concept(lex, "labs", "international normalized ratio")["unit"] is None
    assert _concept(lex, "scores", "Manual Muscle Testing 8")["scales"] == [80, 150]
    deucra = _concept(lex, "drugs", "deucravacitinib")
    assert {"TYK2 inhibitor", "JAK inhibitor"} <= set(deucra["classes"])
    assert _concept(lex, "drug_classes", "TYK2 inhibitor")["parent"] == "JAK inhibitor"
    assert _concept(lex, "conditions", "juvenile dermatomyositis")["parent"] == "dermatomyositis"
    assert _concept(lex, "conditions", "dermatomyositis")["parent"] == "idiopathic inflammatory myopathy"
    assert _concept(lex, "vaccines", "live attenuated vaccine")["live"] is True
    # ambiguous short forms must not be synonyms of conditions
    cond_terms = {t.lower() for c in lex["conditions"] for t in [c["name"], *c["synonyms"]]}
    assert not {"all", "cr", "pr", "sd", "pt"} & cond_terms


def test_dermatomyositis_seed_coverage(lex):
    """The words the dermatomyositis seed criteria use for their key concepts are known to the lexicon."""
    need_shared()
    if not SEEDS.exists():
        pytest.skip("needs ../shared/data/seed-trials/seed-trials.json")
    text = SEEDS.read_text(encoding="utf-8").lower()
    wanted = [("drugs", "prednisone"), ("drugs", "methotrexate"), ("drugs", "rituximab"),
              ("drugs", "immune globulin"), ("scores", "CDASI activity score"),
              ("scores", "Manual Muscle Testing 8"), ("labs", "creatine kinase"),
              ("conditions", "dermatomyositis"), ("drug_classes", "JAK inhibitor")]
    for cat, name in wanted:
        concept = _concept(lex, cat, name)
        terms = [concept["name"], *concept["synonyms"]]
        assert any(t.lower() in text for t in terms), (cat, name)
    # and the specific spellings the seeds use
    for cat, name, term in [("drugs", "immune globulin", "IVIg"), ("scores", "Manual Muscle Testing 8", "MMT-8"),
                            ("labs", "creatine kinase", "CK"), ("drug_classes", "JAK inhibitor", "JAK inhibitor")]:
        concept = _concept(lex, cat, name)
        assert term.lower() in {t.lower() for t in [concept["name"], *concept["synonyms"]]}


def test_drug_class_wording_variants():
    from trialscout.criteria.lexicon import lexicon as load

    lex = load()
    for text, name in (("anti-tuberculosis medicines", "antituberculosis agent"),
                       ("immunosuppressive medicines", "immunosuppressant")):
        words = [w.lower() for w in re.findall(r"[^\W\d_]+|\d+(?:\.\d+)?|\S", text)]
        assert [hit[1] for hit in lex.longest(words)] == [name], text


def test_reference_ranges_lie_within_plausible_values(lex):
    for lab in lex["labs"]:
        if "normal" in lab:
            lo, hi = lab["normal"]
            assert lo < hi, lab["name"]
            if "plausible" in lab:
                assert lab["plausible"][0] <= lo and hi <= lab["plausible"][1], lab["name"]
