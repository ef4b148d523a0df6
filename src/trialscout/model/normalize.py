"""Turn the spellings of each source into the model's canonical values."""

from __future__ import annotations

import re
from datetime import datetime

from .trial import Age

_YEARS_PER = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")


def parse_age(text: str | None) -> Age | None:
    """'18 Years' -> Age(years=18.0); 'N/A', '' and unreadable text -> None."""
    if not text:
        return None
    m = _AGE.match(text)
    if not m:
        return None
    per = _YEARS_PER.get(m.group(2).lower())
    if per is None:
        return None
    return Age(text=text.strip(), years=round(float(m.group(1)) * per, 6))


def enum_value(text: str | None) -> str | None:
    """'Active, not recruiting' -> 'ACTIVE_NOT_RECRUITING' (the API v2 spelling)."""
    if text is None:
        return None
    value = re.sub(r"[^A-Za-z0-9]+", "_", text.strip()).strip("_").upper()
    return value or None


# Legacy XML and API v2 disagree on a few enum names beyond spelling.
_STATUS = {"UNKNOWN_STATUS": "UNKNOWN"}
_PHASE = {"N_A": "NA", "PHASE_1": "PHASE1", "PHASE_2": "PHASE2", "PHASE_3": "PHASE3", "PHASE_4": "PHASE4",
          "EARLY_PHASE_1": "EARLY_PHASE1"}
_SEX = {"BOTH": "ALL"}
_MASKING = {"NONE_OPEN_LABEL": "NONE", "SINGLE": "SINGLE", "DOUBLE": "DOUBLE", "TRIPLE": "TRIPLE",
            "QUADRUPLE": "QUADRUPLE"}
_MODEL = {"SINGLE_GROUP_ASSIGNMENT": "SINGLE_GROUP", "PARALLEL_ASSIGNMENT": "PARALLEL",
          "CROSSOVER_ASSIGNMENT": "CROSSOVER", "FACTORIAL_ASSIGNMENT": "FACTORIAL",
          "SEQUENTIAL_ASSIGNMENT": "SEQUENTIAL"}
_ALLOCATION = {"NON_RANDOMIZED": "NON_RANDOMIZED", "N_A": "NA"}
_PURPOSE = {"HEALTH_SERVICES_RESEARCH": "HEALTH_SERVICES_RESEARCH", "BASIC_SCIENCE": "BASIC_SCIENCE",
            "EDUCATIONAL_COUNSELING_TRAINING": "ECT"}  # legacy XML "Educational/Counseling/Training"
# Legacy XML "Observational [Patient Registry]"; API v2 says OBSERVATIONAL (+ patientRegistry: true).
_STUDY_TYPE = {"EXPANDED_ACCESS": "EXPANDED_ACCESS", "OBSERVATIONAL_PATIENT_REGISTRY": "OBSERVATIONAL"}
_ARM_TYPE = {"PLACEBO_COMPARATOR": "PLACEBO_COMPARATOR", "NO_INTERVENTION": "NO_INTERVENTION",
             "SHAM_COMPARATOR": "SHAM_COMPARATOR", "ACTIVE_COMPARATOR": "ACTIVE_COMPARATOR"}
_CLASS = {"U_S_FED": "FED"}

_TABLES = {"status": _STATUS, "phase": _PHASE, "sex": _SEX, "masking": _MASKING, "model": _MODEL,
           "allocation": _ALLOCATION, "purpose": _PURPOSE, "study_type": _STUDY_TYPE,
           "arm_type": _ARM_TYPE, "agency_class": _CLASS}


def canonical(kind: str, text: str | None) -> str | None:
    value = enum_value(text)
    if value is None:
        return None
    return _TABLES[kind].get(value, value)


def phases_from_text(text: str | None) -> list[str]:
    """Legacy XML writes 'Phase 1/Phase 2'; API v2 lists ['PHASE1', 'PHASE2']."""
    if not text:
        return []
    if canonical("phase", text) == "NA":  # "N/A" is one value, not two parts
        return ["NA"]
    return [p for p in (canonical("phase", part) for part in text.split("/")) if p]


_DATE_FORMATS = (("%B %d, %Y", "%Y-%m-%d"), ("%B %Y", "%Y-%m"), ("%Y-%m-%d", "%Y-%m-%d"), ("%Y-%m", "%Y-%m"),
                 ("%Y", "%Y"))


def iso_date(text: str | None) -> str | None:
    """'November 2, 1999' -> '1999-11-02', 'May 1990' -> '1990-05', keeping the given precision."""
    if not text:
        return None
    text = text.strip()
    for parse, emit in _DATE_FORMATS:
        try:
            return datetime.strptime(text, parse).strftime(emit)
        except ValueError:
            continue
    return None


def yes_no(text: str | None) -> bool | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("yes", "true", "accepts healthy volunteers"):
        return True
    if value in ("no", "false"):
        return False
    return None


def clean_text(text: str | None) -> str | None:
    """Registry text blocks carry CRLFs, hard-wrapped indentation and API v2 markdown escapes."""
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    # Legacy XML indents every line of a textblock by the same amount; remove it.
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
    cut = min(indents) if indents else 0
    text = "\n".join(ln[cut:].rstrip() for ln in lines).strip()
    return text or None
