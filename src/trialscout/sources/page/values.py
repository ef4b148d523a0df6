"""Parsers for the one-line values of a page: status, phases, study type, enrollment, sex, enum types.

Each maps a page's wording to the ClinicalTrials.gov API v2 spelling, like every other source,
and returns None (or []) for text it cannot read, so the importer never fills a field from a
guess. ``parses_as`` uses them to decide whether an unseparated "Label value" row really holds a
value of that label's field. Dates and ages have modules of their own.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from trialscout.model.normalize import canonical, enum_value, yes_no

from .ages import parse_age_range, parse_single_age
from .dates import DATE_FIELDS, parse_date
from .vocab import fold, vocabulary

NCT = re.compile(r"NCT\d{8}(?!\d)")  # no leading \b: a literal start keeps scanning a large page fast
PHONE = re.compile(r"\+?\(?\d[\d ().\-/]{5,}\d(?:\s*(?:ext\.?|x)\s*\d+)?")
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=4096)
def parse_status(text: str) -> str | None:
    """'Not yet recruiting' / 'NOT_YET_RECRUITING' / 'Open to recruitment' -> the API v2 status."""
    vocab = vocabulary()
    plain = re.sub(r"\([^)]*\)", " ", _nfkc(text))
    for candidate in (plain, re.split(r"\s[–—-]\s|[;,]", plain)[0]):
        key = fold(candidate.replace("_", " ")).replace("-", " ")
        if not key:
            continue
        if key in vocab.status:
            return vocab.status[key]
        value = canonical("status", key)
        if value in vocab.enums["status"]:
            return value
    return None


_PHASE_NUM = r"(?:[0-4]|iv|iii|ii|i)"
_PHASE = re.compile(rf"(early\s*)?phase\s*({_PHASE_NUM})\b"
                    rf"((?:\s*(?:/|-|–|,|&|and|or)\s*(?:phase\s*)?{_PHASE_NUM}\b|\s+phase\s*{_PHASE_NUM}\b)*)")
_PHASE_NUMBER = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def parse_phases(text: str, strict: bool = False) -> list[str]:
    """'Phase 1/Phase 2' -> ['PHASE1', 'PHASE2']; 'Phase II' -> ['PHASE2']; 'Not Applicable' -> ['NA']."""
    value = _nfkc(text).casefold().replace("_", " ").strip()
    if fold(re.sub(r"\([^)]*\)", "", value)) in vocabulary().phase_na:
        return ["NA"]
    if not strict and (flags := re.findall(rf"phase\s*({_PHASE_NUM})\s*\)?\s*:\s*(yes|no)\b", value)):
        # EU registers tick each phase: "Therapeutic exploratory (Phase II): yes ... (Phase III): no"
        ticked = {f"PHASE{_PHASE_NUMBER[n]}" for n, answer in flags if answer == "yes" and _PHASE_NUMBER[n]}
        return [p for p in ("PHASE1", "PHASE2", "PHASE3", "PHASE4") if p in ticked]
    if "phase" not in value:
        value = "phase " + value
    m = _PHASE.search(value)
    if not m:
        return []
    if strict and (value[:m.start()].strip() or re.sub(r"\([^)]*\)", "", value[m.end():]).strip(" .;,")):
        return []
    numbers = [m.group(2)] + re.findall(rf"\b{_PHASE_NUM}\b", re.sub(r"phase", " ", m.group(3)))
    found = set()
    for i, n in enumerate(numbers):
        level = _PHASE_NUMBER[n]
        found.add("EARLY_PHASE1" if level == 0 or (i == 0 and m.group(1)) else f"PHASE{level}")
    order = ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]
    return [p for p in order if p in found]


def parse_study_type(text: str) -> str | None:
    """'Interventional' -> INTERVENTIONAL; also 'Interventional clinical trial of medicinal product'."""
    value = canonical("study_type", re.sub(r"\([^)]*\)", " ", _nfkc(text)))
    allowed = vocabulary().enums["study_type"]
    if value in allowed:
        return value
    return next((kind for kind in allowed if value and value.startswith(kind + "_")), None)


_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d]|[.,]\d)")


def type_word(text: str) -> str | None:
    """ACTUAL / ESTIMATED when the text says so ('20 (Anticipated)', 'Actual')."""
    qualifiers = vocabulary().qualifiers
    for word in re.findall(r"[a-z]+", text.casefold()):
        if qualifiers.get(word):
            return qualifiers[word]
    return None


def parse_enrollment(text: str) -> tuple[int | None, str | None]:
    """'20 participants' -> 20; '1,200 (estimated)' -> (1200, 'ESTIMATED')."""
    value = _nfkc(text).strip()
    if len(value.split()) > 8:
        return None, None
    m = _NUMBER.search(value)
    if not m or len(value[:m.start()].split()) > 3 or any(ch.isdigit() for ch in value[:m.start()]):
        return None, None
    return int(m.group(1).replace(",", "")), type_word(value)


def parse_sex(text: str) -> str | None:
    vocab = vocabulary()
    if ticks := dict(re.findall(r"\b(female|male)s?\s*:\s*(yes|no)\b", _nfkc(text).casefold())):
        # "Female: yes Male: no" (EU registers tick each sex)
        ticked = {k for k, answer in ticks.items() if answer == "yes"}
        return {frozenset({"female", "male"}): "ALL", frozenset({"female"}): "FEMALE",
                frozenset({"male"}): "MALE"}.get(frozenset(ticked))
    key = fold(re.sub(r"\([^)]*\)", " ", text)).replace("/", " and ")
    if key in vocab.sex:
        return vocab.sex[key]
    words = set(re.findall(r"[a-z]+", key))
    if words & {"male", "males", "men", "man"} and words & {"female", "females", "women", "woman"}:
        return "ALL"
    value = canonical("sex", key)
    return value if value in vocab.enums["sex"] else None


def parse_intervention_type(text: str) -> str | None:
    vocab = vocabulary()
    key = fold(text)
    value = vocab.intervention_type.get(key) or enum_value(key)
    return value if value in vocab.enums["intervention_type"] else None


def parse_arm_type(text: str) -> str | None:
    key = fold(text).replace("_", " ")
    return vocabulary().arm_type.get(key)


def parse_role(text: str) -> str | None:
    key = fold(text).replace("_", " ")
    return vocabulary().role.get(key) or enum_value(text)


def parses_as(name: str, value: str) -> bool:
    """Whether `value` parses as a whole as a value of field `name` (used where no separator says so)."""
    if name == "nct_id":
        return bool(NCT.search(value)) and len(value.split()) <= 3
    if name in ("registry_id", "secondary_ids", "org_study_id"):
        return len(value.split()) == 1 and any(ch.isdigit() for ch in value)
    if name == "overall_status":
        return parse_status(value) is not None
    if name == "phases":
        return bool(parse_phases(value, strict=True))
    if name == "study_type":
        return parse_study_type(value) is not None
    if name == "enrollment":
        return parse_enrollment(value)[0] is not None
    if name in DATE_FIELDS:
        return parse_date(value, strict=True) is not None
    if name in ("age_range", "minimum_age", "maximum_age"):
        low, high = parse_age_range(value)
        return (low or high or parse_single_age(value)) is not None
    if name == "sex":
        return parse_sex(value) is not None
    if name == "healthy_volunteers":
        return yes_no(value) is not None
    if name == "phone":
        return bool(PHONE.fullmatch(value.strip()))
    if name == "email":
        return bool(EMAIL.fullmatch(value.strip()))
    if name == "arm_type":
        return parse_arm_type(value) is not None
    if name == "intervention_type":
        return parse_intervention_type(value) is not None
    return False
