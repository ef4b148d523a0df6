"""Demographic facts: age bounds, sex, pregnancy, breastfeeding, contraception, consent, language.

These are phrased in a small number of ways, so patterns (wordings in ``demographics.json``) are
precise enough; the clinical concepts go through the lexicon and ConText instead.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from .model import Fact, Threshold
from .numbers import COMPARATOR_RE, OPS

__all__ = ["demographic_facts"]

_D = json.loads(resources.files(__package__).joinpath("demographics.json").read_text("utf-8"))
_GATES = {k: tuple(v) for k, v in _D["gates"].items() if not k.startswith("_")}
# Every wording in demographics.json compiled once; "unable" is what comes before a refused consent
# or compliance ("unable to give", "refused to sign").
_RX = {k: re.compile(v, re.I) for k, v in _D.items() if isinstance(v, str) and not k.startswith("_")
       and k != "language_cue"}
_LANG = re.compile(
    rf"\b(?P<lang>{'|'.join(_D['languages'])})[- ](?:speaking|speaker|language)\b"
    rf"|\b{_D['language_cue']}\b[^.;]{{0,40}}?\b(?P<lang2>{'|'.join(_D['languages'])})\b", re.I)

_N = r"(?:(?<=age)|\b)(\d{1,3}(?:\.\d)?)(?!\d|\s?(?:st|nd|rd|th)\b)"  # "age18" is written too; "95th" is a rank
_Y = r"\s*(?P<unit>years?|yrs?|months?|weeks?|days?|hours?|hrs?)?(?:\s+(?:of\s+age|old))?"
_OF_AGE = r"(?:(?:the\s+)?age\s+(?:of\s+)?)?"
# Each pattern yields (op, low, high) through named groups; order matters (ranges first).
_AGE_PATTERNS = [
    (re.compile(rf"(?:between\s+(?:the\s+ages?\s+of\s+)?)?{_N}\s*(?:years?\s*)?(?:-|–|to|and|through)\s*{_N}{_Y}", re.I),
     "between"),
    # "(?!\s*than)": in "less than 18 or older than 65", "18 or older" is not a bound.
    (re.compile(rf"{_N}{_Y}\s*(?:or|and)\s*(?:older|over|above|greater|more)\b(?!\s*than)", re.I), ">="),
    (re.compile(rf"{_N}{_Y}\s*(?:or|and)\s*(?:younger|under|below|less)\b(?!\s*than)", re.I), "<="),
    # "Age 18+", "aged 65+ years"
    (re.compile(rf"{_N}\s?\+(?!\s*\d){_Y}", re.I), ">="),
    # "at least 18", "equal or greater than 18 years", "not greater than 70", "under the age of 18"
    (re.compile(rf"(?:{COMPARATOR_RE}|\b(?:older|younger)\s+than)\s*{_OF_AGE}{_N}{_Y}", re.I), "cmp"),
]
# A number only counts as an age with an age word right next to it: "years" alone is not enough
# ("smoking more than 1 year", "duration of 1 year or greater"), except in a range ("aged 18-65 years"
# is caught by "aged"; "between 18 and 65 years" by the range rule below).
_AGE_NEAR = re.compile(r"\bage[ds]?\b|\bold(?:er)?\b|\byounger\b|\bchild(?:ren)?\b|\badults?\b"
                       r"|^\W*(?:patients?|subjects?|participants?|individuals?|persons?|volunteers?|m[ae]n|wom[ae]n"
                       r"|(?:fe)?males?)\s+(?:aged?\s+)?(?:over|above|under|below|older|younger|at\s+least|[<>≥≤])",
                       re.I)
_UNIT_YEARS = {"month": 1 / 12, "week": 1 / 52, "day": 1 / 365, "hour": 1 / 8760}
# "consent of a guardian if under 18": a condition on something else, not an age bound.
_SEX_ONLY = re.compile(r"child[- ]?bearing|reproductive|pregnan|lactat|breast|nursing|contracep|partner", re.I)
# "gestational age < 23 weeks", "born at 32 weeks of gestation", "bone age no greater than 11 years": a
# pregnancy's, a birth's or a skeleton's age, not the person's.
_GESTATION = re.compile(r"gestation|post-?menstrual|\bpregnan\w*\s+(?:of|at|aged?)\b[^.;]{0,10}$|"
                        r"\b(?:bone|skeletal|mental|developmental)\s+(?:age\b[^.;]{0,10})?$", re.I)
# "FEV1 > 80 % of that predicted for age and height": a share, not an age.
_PERCENT = re.compile(r"\s*(?:%|percent\b)", re.I)
_CONDITIONAL = re.compile(r"\b(?:if|when|whose|for\s+those)\s+(?:\w+\s+){0,3}$", re.I)


def _op(m: re.Match) -> str:
    for group, op in OPS.items():
        if m.group(group):
            return op
    return ">" if m.group().lower().startswith("older") else "<"


def _age(text: str, label_end: int) -> list[Fact]:
    if not label_end and not _RX["age_context"].search(text):
        return []
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for rx, op in _AGE_PATTERNS:
        for m in rx.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            near = text[max(0, m.start() - 25):m.end() + 25]
            unit = (m.group("unit") or "year").lower().rstrip("s")
            unit = "hour" if unit == "hr" else unit
            bare_range = op == "between" and unit.startswith("y") and m.group("unit")
            if _CONDITIONAL.search(text, max(0, m.start() - 30), m.start()) or \
                    _GESTATION.search(text, max(0, m.start() - 30), m.start()) or _PERCENT.match(text, m.end()):
                continue
            if not (m.start() < label_end or bare_range or _AGE_NEAR.search(near)) or re.search(r"\b(?:within|past|last|prior|ago|since|for)\b",
                                                       text[max(0, m.start() - 15):m.start()], re.I):
                continue
            scale = _UNIT_YEARS.get(unit, 1.0)
            nums = [round(float(g) * scale, 4) for g in m.groups()[-3:] if g and g[0].isdigit()]
            this_op = _op(m) if op == "cmp" else op
            if this_op == "between":
                lo, hi = nums[0], nums[1]
                if not (0 <= lo < hi <= 120):
                    continue
                th = Threshold(op="between", value=lo, high=hi, unit="years", start=m.start(), end=m.end())
            else:
                if not 0 <= nums[0] <= 120:
                    continue
                th = Threshold(op=this_op, value=nums[0], unit="years", start=m.start(), end=m.end())
            taken.append((m.start(), m.end()))
            facts.append(Fact(kind="age", text=m.group(), start=m.start(), end=m.end(), thresholds=(th,)))
    return facts


def _sex(text: str) -> list[Fact]:
    if (both := _RX["any_sex"].search(text)) and not _SEX_ONLY.search(text):
        # "Male and female", "both sexes": no restriction, but a criterion all the same (met by anyone)
        return [Fact(kind="sex", value="any", text=both.group(), start=both.start(), end=both.end())]
    f, m = _RX["female"].search(text), _RX["male"].search(text)
    if bool(f) == bool(m) or _RX["sex_not_restricting"].search(text):
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
    low = text.lower()

    def gate(kind: str) -> bool:
        return any(word in low for word in _GATES[kind])

    facts = _age(text, age_label_end) if age_label_end or gate("age") else []
    if gate("sex"):
        facts += _sex(text)
    if gate("pregnancy"):
        facts += _flagged("pregnancy", _RX["pregnancy"], _RX["pregnancy_negated"], text, "pregnant")
    if gate("breastfeeding"):
        facts += _flagged("breastfeeding", _RX["breastfeeding"], _RX["breastfeeding_negated"], text, "breastfeeding")
    if gate("contraception") and (c := _RX["contraception"].search(text)):
        facts.append(Fact(kind="contraception", text=c.group(), start=c.start(), end=c.end()))
    if gate("compliance") and (c := _RX["compliance"].search(text)):
        refused = c.group()[:5].lower() == "refus"  # "refusal to take the tablets" carries its own negation
        facts.append(Fact(kind="compliance", text=c.group(), start=c.start(), end=c.end(),
                          negated=refused or bool(_RX["unable"].search(text, 0, c.start()))))
    if gate("consent") and (c := _RX["consent"].search(text)):
        facts.append(Fact(kind="consent", text=c.group(), start=c.start(), end=c.end(),
                          negated=bool(_RX["unable"].search(text, 0, c.start()))))
    if gate("language") and (lang := _LANG.search(text)):
        name = (lang.group("lang") or lang.group("lang2")).capitalize()
        facts.append(Fact(kind="language", value=name, text=lang.group(), start=lang.start(), end=lang.end()))
    return facts
