"""Demographic facts: age bounds, sex, pregnancy, breastfeeding, contraception, consent, language.

These are phrased in a small number of ways, so patterns (wordings in ``demographics.json``) are
precise enough; the clinical concepts go through the lexicon and ConText instead.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from .model import Fact, Threshold

__all__ = ["demographic_facts"]

_D = json.loads(resources.files(__package__).joinpath("demographics.json").read_text("utf-8"))
_AGE_CTX = re.compile(_D["age_context"], re.I)
_FEMALE = re.compile(_D["female"], re.I)
_MALE = re.compile(_D["male"], re.I)
_SEX_FREE = re.compile(_D["sex_not_restricting"], re.I)
_PREG = re.compile(_D["pregnancy"], re.I)
_PREG_NEG = re.compile(_D["pregnancy_negated"], re.I)
_BREAST = re.compile(_D["breastfeeding"], re.I)
_BREAST_NEG = re.compile(_D["breastfeeding_negated"], re.I)
_CONTRA = re.compile(_D["contraception"], re.I)
_CONSENT = re.compile(_D["consent"], re.I)
_LANG_NAME = re.compile(rf"\b(?:{'|'.join(_D['languages'])})\b", re.I)  # cheap gate for _LANG
_LANG = re.compile(
    rf"\b(?P<lang>{'|'.join(_D['languages'])})[- ](?:speaking|speaker|language)\b"
    rf"|\b{_D['language_cue']}\b[^.;]{{0,40}}?\b(?P<lang2>{'|'.join(_D['languages'])})\b", re.I)

_N = r"(\d{1,3}(?:\.\d)?)"
_Y = r"\s*(?:years?|yrs?)?(?:\s+(?:of\s+age|old))?"
_OF_AGE = r"(?:(?:the\s+)?age\s+(?:of\s+)?)?"
_LOW = r"(?:>=|=>|≥|⩾|at\s+least|no\s+(?:less|younger)\s+than|not\s+(?:less|younger)\s+than|minimum(?:\s+of)?)"
_LT = r"(?:<|less\s+than|younger\s+than|under|below)"
_GT = r"(?:>|greater\s+than|older\s+than|more\s+than|over|above)"
_HIGH = r"(?:<=|=<|≤|⩽|at\s+most|no\s+(?:more|older)\s+than|not\s+(?:more|older)\s+than|up\s+to|maximum(?:\s+of)?)"
# Each pattern yields (op, low, high) through named groups; order matters (ranges first).
_AGE_PATTERNS = [
    (re.compile(rf"(?:between\s+(?:the\s+ages?\s+of\s+)?)?\b{_N}\s*(?:years?\s*)?(?:-|–|to|and|through)\s*{_N}{_Y}", re.I),
     "between"),
    (re.compile(rf"\b{_N}{_Y}\s*(?:or|and)\s*(?:older|over|above|greater|more)\b", re.I), ">="),
    (re.compile(rf"\b{_N}{_Y}\s*(?:or|and)\s*(?:younger|under|below|less)\b", re.I), "<="),
    (re.compile(rf"{_LOW}\s*{_OF_AGE}{_N}{_Y}", re.I), ">="),
    (re.compile(rf"{_HIGH}\s*{_OF_AGE}{_N}{_Y}", re.I), "<="),
    (re.compile(rf"{_GT}\s*{_OF_AGE}{_N}{_Y}", re.I), ">"),
    (re.compile(rf"{_LT}\s*{_OF_AGE}{_N}{_Y}", re.I), "<"),
]
# A number only counts as an age with an age word right next to it, not anywhere in the criterion.
_AGE_NEAR = re.compile(r"\bage[ds]?\b|\bold\b|\byears?\s+of\s+age\b|\byears?\b(?!\s+(?:prior|before|after|of\s+(?!age)))", re.I)


def _age(text: str, label_end: int) -> list[Fact]:
    if not label_end and not _AGE_CTX.search(text):
        return []
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for rx, op in _AGE_PATTERNS:
        for m in rx.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            near = text[max(0, m.start() - 25):m.end() + 25]
            if not (m.start() < label_end or _AGE_NEAR.search(near)) or re.search(r"\b(?:within|past|last|prior|ago|since|for)\b",
                                                       text[max(0, m.start() - 15):m.start()], re.I):
                continue
            nums = [float(g) for g in m.groups() if g is not None]
            if op == "between":
                lo, hi = nums[0], nums[1]
                if not (0 <= lo < hi <= 120):
                    continue
                th = Threshold(op="between", value=lo, high=hi, unit="years", start=m.start(), end=m.end())
            else:
                if not 0 <= nums[0] <= 120:
                    continue
                th = Threshold(op=op, value=nums[0], unit="years", start=m.start(), end=m.end())
            taken.append((m.start(), m.end()))
            facts.append(Fact(kind="age", text=m.group(), start=m.start(), end=m.end(), thresholds=(th,)))
    return facts


def _sex(text: str) -> list[Fact]:
    f, m = _FEMALE.search(text), _MALE.search(text)
    if bool(f) == bool(m) or _SEX_FREE.search(text):
        return []
    hit = f or m
    assert hit is not None
    return [Fact(kind="sex", value="female" if f else "male", text=hit.group(), start=hit.start(), end=hit.end())]


def _flagged(kind: str, rx: re.Pattern, neg: re.Pattern, text: str, value: str | None = None) -> list[Fact]:
    hit = rx.search(text)
    if not hit:
        return []
    n = neg.search(text)
    span = n or hit
    return [Fact(kind=kind, value=value, text=span.group(), start=span.start(), end=span.end(),
                 negated=bool(n))]


def demographic_facts(text: str, *, age_label_end: int = 0) -> list[Fact]:
    """``text[:age_label_end]`` is under an "Age:" label, so bare numbers there ("18 and over") are ages."""
    facts = _age(text, age_label_end) + _sex(text)
    facts += _flagged("pregnancy", _PREG, _PREG_NEG, text, "pregnant")
    facts += _flagged("breastfeeding", _BREAST, _BREAST_NEG, text, "breastfeeding")
    if (c := _CONTRA.search(text)):
        facts.append(Fact(kind="contraception", text=c.group(), start=c.start(), end=c.end()))
    if (c := _CONSENT.search(text)):
        facts.append(Fact(kind="consent", text=c.group(), start=c.start(), end=c.end()))
    if _LANG_NAME.search(text) and (lang := _LANG.search(text)):
        name = (lang.group("lang") or lang.group("lang2")).capitalize()
        facts.append(Fact(kind="language", value=name, text=lang.group(), start=lang.start(), end=lang.end()))
    return facts
