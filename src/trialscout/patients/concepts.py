"""Codes and wording -> lexicon concepts; units and frequencies -> the spellings criteria use.

Shared by the FHIR, profile and note loaders so that "platelets 90 x10^9/L" means the same thing
whichever way it arrived.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import cache

from ..criteria.lexicon import TOKEN, Concept, lexicon
from ..criteria.units import UnitError, convert, normalize_unit
from .model import PatientFact

__all__ = [
    "HINT_KINDS", "SYSTEMS", "concept_for", "contradictions", "frequency_from_timing", "frequency_of",
    "normalize_value", "partial_date", "scale_from_unit", "scale_for", "unit_of",
]

# Which lexicon kinds a source field may name: an Observation is a lab or a score, an allergy is
# to a drug or a drug class.
HINT_KINDS: dict[str, tuple[str, ...]] = {
    "lab": ("lab",), "score": ("score",), "observation": ("lab", "score"),
    "drug": ("drug", "drug_class"), "allergy": ("drug", "drug_class"),
    "condition": ("condition",), "procedure": ("procedure",), "vaccine": ("vaccine",), "device": ("device",),
}

# Coding system URI -> the short key used in PatientFact.codes and the lexicon.
SYSTEMS: dict[str, str] = {
    "http://loinc.org": "loinc",
    "http://snomed.info/sct": "snomed",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "http://www.whocc.no/atc": "atc",
    "http://hl7.org/fhir/sid/cvx": "cvx",
}

# Codes the lexicon does not carry yet. CVX from the CDC table, LOINC for ECOG; from memory like the
# lexicon's own codes, so only the common, unambiguous ones.
_EXTRA_CODES: dict[tuple[str, str], tuple[str, str]] = {
    ("loinc", "89247-1"): ("score", "ECOG performance status"),
    **{("cvx", c): ("vaccine", "measles, mumps and rubella vaccine") for c in ("03", "3", "94")},
    **{("cvx", c): ("vaccine", "varicella vaccine") for c in ("21",)},
    **{("cvx", c): ("vaccine", "live zoster vaccine") for c in ("121",)},
    **{("cvx", c): ("vaccine", "recombinant zoster vaccine") for c in ("187",)},
    **{("cvx", c): ("vaccine", "live attenuated influenza vaccine") for c in ("111", "149")},
    **{("cvx", c): ("vaccine", "inactivated influenza vaccine") for c in ("140", "141", "150", "158", "161")},
    **{("cvx", c): ("vaccine", "yellow fever vaccine") for c in ("37",)},
    **{("cvx", c): ("vaccine", "BCG vaccine") for c in ("19",)},
    **{("cvx", c): ("vaccine", "COVID-19 vaccine") for c in ("207", "208", "212", "213")},
    **{("cvx", c): ("vaccine", "pneumococcal vaccine") for c in ("33", "133", "152", "215", "216")},
    **{("cvx", c): ("vaccine", "hepatitis B vaccine") for c in ("08", "8", "43", "45")},
    **{("cvx", c): ("vaccine", "hepatitis A vaccine") for c in ("52", "83")},
    **{("cvx", c): ("vaccine", "HPV vaccine") for c in ("62", "165")},
    **{("cvx", c): ("vaccine", "tetanus, diphtheria and pertussis vaccine") for c in ("115", "113", "139")},
    **{("cvx", c): ("vaccine", "rotavirus vaccine") for c in ("116", "119", "122")},
}


@cache
def _indexes() -> tuple[dict[tuple[str, str], list[Concept]], dict[str, list[Concept]]]:
    lex = lexicon()
    by_code: dict[tuple[str, str], list[Concept]] = {}
    by_name: dict[str, list[Concept]] = {}
    for concept in lex.concepts.values():
        for key, code in concept.codes.items():
            by_code.setdefault((key, code.upper()), []).append(concept)
        for phrase in {concept.name, *concept.synonyms}:
            by_name.setdefault(_fold(phrase), []).append(concept)
    for key, (kind, name) in _EXTRA_CODES.items():
        if (c := lex.get(kind, name)) is not None:
            by_code.setdefault((key[0], key[1].upper()), []).append(c)
    return by_code, by_name


def _fold(s: str) -> str:
    return " ".join(s.lower().split())


def _by_code(kinds: tuple[str, ...], codes: Mapping[str, str]) -> Concept | None:
    by_code = _indexes()[0]
    for key, code in codes.items():
        code = code.strip().upper()
        tries = [code]
        if key == "icd10":
            # "M33.10" is a kind of "M33.1": walk up to the three-character category.
            tries += [code[:n] for n in range(len(code) - 1, 2, -1)]
        for c in tries:
            for concept in by_code.get((key, c.rstrip(".")), ()):
                if concept.kind in kinds:
                    return concept
    return None


def concept_for(kind_hint: str, text: str | None, codes: Mapping[str, str] | None = None
                ) -> tuple[str, Concept | None]:
    """(lexicon kind, concept) for a coded or named thing; (kind_hint, None) when nothing matches.

    Tries the codes first, then ``text`` as an exact name or synonym, then the longest lexicon
    phrase inside ``text`` ("Prednisone 5 MG Oral Tablet" -> prednisone).
    """
    kinds = HINT_KINDS.get(kind_hint, (kind_hint,))
    if codes and (c := _by_code(kinds, codes)) is not None:
        return c.kind, c
    if not text or not text.strip():
        return kind_hint, None
    _, by_name = _indexes()
    for kind in kinds:  # hint order decides between e.g. a lab and a score sharing a word
        for c in by_name.get(_fold(text), ()):
            if c.kind == kind:
                return c.kind, c
    words = [t.lower() for t in TOKEN.findall(text[:2000])]
    best: tuple[int, Concept] | None = None
    for kind, name, i, j in lexicon().longest(words):
        if kind in kinds:
            size = sum(len(w) for w in words[i:j])
            if best is None or size > best[0]:
                best = (size, lexicon().concepts[(kind, name)])
    return (best[1].kind, best[1]) if best else (kind_hint, None)


_ANNOTATION = re.compile(r"\{[^{}]*\}")


def unit_of(raw: str | None) -> tuple[str | None, bool]:
    """(canonical unit or None, understood). UCUM spellings are accepted ("10*9/L", "[iU]/L",
    "mL/min/{1.73_m2}"); annotations alone ("{score}", "1") mean no unit and are understood."""
    if raw is None or not raw.strip():
        return None, True
    s = raw.strip().replace("{1.73_m2}", "1.73m2")
    s = _ANNOTATION.sub("", s).replace("[", "").replace("]", "").strip()
    if s in ("", "1"):
        return None, True
    if s.startswith("/") and not _ANNOTATION.sub("", raw.strip()).startswith("/"):
        s = "1" + s  # "{cells}/uL" lost its numerator
    unit = normalize_unit(s) or normalize_unit(raw.strip())
    return unit, unit is not None


def normalize_value(concept: Concept | None, value: float, unit: str | None) -> tuple[float, str | None]:
    """``value`` in the concept's canonical unit when the units convert; otherwise as given (unit
    canonically spelled, or None when not understood). Never converts across dimensions by guess."""
    canon, _ok = unit_of(unit)
    target = concept.data.get("unit") if concept is not None else None
    if canon is None or not target:
        return value, canon
    target = normalize_unit(target) or target
    if target == canon:
        return value, canon
    try:
        new = convert(value, canon, target, concept.data.get("molar_mass") if concept else None)
    except UnitError:
        return value, canon
    return float(f"{new:.10g}"), target


_SCALE_UNIT = re.compile(r"^\s*(?:/|of\b|out\s+of\b)\s*(\d{1,4}(?:\.\d+)?)\s*$", re.I)


def scale_from_unit(raw: str | None) -> float | None:
    """A score written "120 /150" carries its scale in the unit position."""
    m = _SCALE_UNIT.match(raw or "")
    return float(m.group(1)) if m else None


def scale_for(concept: Concept | None, value: float | None, scale_max: float | None) -> float | None:
    """The stated scale, or the only one a multi-scale score's value allows (MMT-8 95 cannot be /80)."""
    if scale_max is not None or concept is None or value is None:
        return scale_max
    scales = concept.data.get("scales") or []
    fitting = [s for s in scales if value <= s]
    return float(fitting[0]) if len(scales) > 1 and len(fitting) == 1 else None


_FREQ = [  # most specific first: "twice daily" must not read as "daily"
    (r"every\s+other\s+week|every\s+(?:2|two)\s+weeks|bi-?weekly|q\s?2\s?w(?:ks?)?\b", "every 2 weeks"),
    (r"every\s+(?:4|four)\s+weeks|q\s?4\s?w(?:ks?)?\b", "every 4 weeks"),
    (r"every\s+other\s+day|q\.?o\.?d\.?\b|alternate\s+days", "every other day"),
    (r"twice\s+(?:a\s+|per\s+)?(?:daily|day)|b\.?i\.?d\.?\b|every\s+12\s+hours|q\s?12\s?h\b", "twice daily"),
    (r"three\s+times\s+(?:a\s+|per\s+)?(?:daily|day)|t\.?i\.?d\.?\b|every\s+8\s+hours|q\s?8\s?h\b",
     "three times daily"),
    (r"four\s+times\s+(?:a\s+|per\s+)?(?:daily|day)|q\.?i\.?d\.?\b|every\s+6\s+hours|q\s?6\s?h\b",
     "four times daily"),
    (r"(?:once\s+)?weekly|once\s+(?:a|per)\s+week|every\s+week|per\s+week|a\s+week|q\.?\s?w(?:k|eek)?\.?\b",
     "weekly"),
    (r"(?:once\s+)?monthly|once\s+(?:a|per)\s+month|every\s+month|q\.?\s?mo?\b", "monthly"),
    (r"(?:once\s+)?daily|once\s+(?:a|per)\s+day|every\s+(?:day|morning|evening|night)|per\s+day|a\s+day"
     r"|each\s+day|q\.?d\.?\b|q\s?day\b|at\s+(?:bedtime|night)|q\.?h\.?s\.?\b|nightly", "daily"),
    (r"as\s+needed|p\.?r\.?n\.?\b|when\s+needed", "as needed"),
]
_FREQ_RE = [(re.compile(r"(?<![\w.])(?:" + rx + r")(?!\w)", re.I), name) for rx, name in _FREQ]
# Rates glued to a unit ("7.5 mg/wk", "20 mg/day") have a word character before the slash.
_FREQ_RE += [(re.compile(r"/\s?(?:wk|week)\b", re.I), "weekly"), (re.compile(r"/\s?d(?:ay)?\b", re.I), "daily")]


def frequency_of(text: str | None) -> str | None:
    """"BID", "twice a day" -> "twice daily"; "once weekly" -> "weekly"; None when none is said."""
    if not text:
        return None
    text = text[:300]
    for rx, name in _FREQ_RE:
        if rx.search(text):
            return name
    return None


_DAILY = {1: "daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}


def frequency_from_timing(frequency: int | None, period: float | None, unit: str | None) -> str | None:
    """FHIR Timing.repeat (frequency per period periodUnit) -> the same words ``frequency_of`` gives."""
    if not unit:
        return None
    f, p = frequency or 1, float(period or 1)
    if unit == "h":
        per_day = f * 24 / p
        if per_day.is_integer() and int(per_day) in _DAILY:
            return _DAILY[int(per_day)]
        return f"every {p:g} hours" if f == 1 else f"{f} times every {p:g} hours"
    if unit == "d":
        if p == 1:
            return _DAILY.get(f, f"{f} times daily")
        if f == 1:
            return {2.0: "every other day", 7.0: "weekly", 14.0: "every 2 weeks", 28.0: "every 4 weeks"}.get(
                p, f"every {p:g} days")
    if unit == "wk":
        if f == 1:
            return "weekly" if p == 1 else f"every {p:g} weeks"
        if p == 1:
            return f"{f} times weekly"
    if unit == "mo" and f == 1:
        return "monthly" if p == 1 else f"every {p:g} months"
    return f"{f} per {p:g} {unit}"


_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def partial_date(value: object) -> dt.date | None:
    """FHIR date/dateTime or "YYYY"/"YYYY-MM" -> a date; partial dates take the first day of their
    period (the earliest the thing can have started)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    m = _PARTIAL.match(value.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def contradictions(facts: Iterable[PatientFact]) -> list[str]:
    """A problem line per concept stated both present and absent about the patient (both are kept)."""
    groups: dict[tuple[str, str], list[PatientFact]] = {}
    for f in facts:
        if not f.family:
            groups.setdefault((f.kind, f.concept or _fold(f.text)), []).append(f)
    out = []
    for (kind, name), fs in groups.items():
        yes = [f for f in fs if not f.negated]
        no = [f for f in fs if f.negated]
        if yes and no:
            def refs(group: list[PatientFact]) -> str:
                return ", ".join(sorted({f.provenance.ref or f.provenance.source for f in group}))
            out.append(f"contradictory {kind} '{name}': present in {refs(yes)} but absent or refuted in "
                       f"{refs(no)}; both kept")
    return out
