"""Time windows in criteria ("within 12 weeks prior to baseline", "in the past 3 years") -> days.

A month counts 30 days and a year 365: criteria state windows in round units and the matcher treats
a fact that falls within a day or two of the edge as the edge itself would be treated by a person,
so calendar precision buys nothing here.
"""

from __future__ import annotations

import re

from .model import Window

__all__ = ["find_windows"]

_DAYS = {"hour": 1, "day": 1, "week": 7, "month": 30, "year": 365}
_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "eighteen": 18, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}
_NUM = r"(?P<n>\d{1,4}(?:\.\d+)?|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<u>hour|day|week|month|year)s?"
_SPAN = rf"{_NUM}[\s-]*(?:\(\s*\d+\s*\)\s*)?{_UNIT}"  # "six (6) months", "12-week"
_ANCHOR = (
    r"(?:\s*(?:prior\s+to|before|preceding|of|from|since|after|following)\s+(?:the\s+)?"
    r"(?P<anchor>baseline|screening|randomi[sz]ation|(?:study\s+)?enrol(?:l)?ment|(?:study\s+)?entry|"
    r"(?:the\s+)?first\s+dose|day\s*1|registration|inclusion|signing|consent|study\s+start|visit\s*1|"
    r"(?:the\s+)?start\s+of|initiation|treatment|study\s+(?:drug|treatment)))?"
)
_PATTERNS = [
    # "within (the past) 6 months (prior to screening)", "in the last 12 weeks", "during the past 2 years"
    (rf"\b(?:within|in|during|over)\s+(?:the\s+)?(?:past|last|previous|preceding|prior)?\s*"
     rf"{_SPAN}{_ANCHOR}", "within"),
    # "within (the past) year", "in the last month"
    (rf"\b(?:within|in|during)\s+(?:the\s+)?(?:past|last|previous|preceding)\s+{_UNIT}{_ANCHOR}",
     "within"),
    # "for at least 4 weeks (prior to baseline)": a minimum duration, e.g. a stable dose
    (rf"\b(?:for\s+)?(?:at\s+least|a\s+minimum\s+of|minimum|>=|≥)\s*{_SPAN}{_ANCHOR}", "at_least"),
    # "more than 1 week before", "at least 5 years since": it must be at least that long ago
    (rf"\b(?:more\s+than|greater\s+than|over|>|at\s+least|(?:a\s+)?minimum\s+(?:of\s+)?|>=|≥)\s*{_SPAN}\s+"
     rf"(?:since|from|after|before|prior\s+to)\b"
     rf"{_ANCHOR}", "at_least"),
    # "less than 4 weeks since prior chemotherapy": it happened within that span
    (rf"(?:\b(?:less\s+than|fewer\s+than|under)|<=|<|≤)\s*{_SPAN}\s+(?:since|after)\b{_ANCHOR}", "within"),
    # "at least 28 days must have elapsed since prior surgery"
    (rf"\b(?:(?:at\s+least|more\s+than|a\s+minimum\s+of|>=|≥|>)\s*)?{_SPAN}\s+(?:must\s+have\s+|should\s+have\s+|"
     rf"have\s+|has\s+)?(?:elapsed|passed)\s+(?:since|from|after)\b{_ANCHOR}", "at_least"),
    # "4 weeks prior to baseline", "less than 6 months before screening"
    (rf"\b(?:less\s+than\s+|<\s*)?{_SPAN}\s+(?:prior\s+to|before|preceding)\s+(?:the\s+)?"
     r"(?P<anchor2>baseline|screening|randomi[sz]ation|enrol(?:l)?ment|(?:study\s+)?entry|first\s+dose|"
     r"day\s*1|registration|inclusion|signing|consent|visit\s*1|study\s+(?:drug|treatment)|"
     r"(?:the\s+)?start)?", "within"),
    # "for 12 weeks": a duration (of treatment, of a trial of a drug)
    (rf"\bfor\s+(?:a\s+(?:period|duration)\s+of\s+)?{_SPAN}", "during"),
]
_COMPILED = [(re.compile(p, re.I), rel) for p, rel in _PATTERNS]
_ANCHOR_NAMES = {
    "randomisation": "randomization", "enrolment": "enrollment", "study entry": "entry",
    "signing": "consent", "the first dose": "first dose", "day1": "day 1",
    "study enrollment": "enrollment", "study enrolment": "enrollment",
}


def _number(text: str | None) -> float:
    if not text:
        return 1.0
    low = text.lower()
    return float(_WORDS[low]) if low in _WORDS else float(low)


_UNIT_WORD = re.compile(r"(?:hour|day|week|month|year)", re.I)  # cheap gate: most criteria have none


def find_windows(text: str) -> list[Window]:
    """Every time window in ``text``, left to right, without overlaps (the longest reading wins)."""
    if not _UNIT_WORD.search(text):
        return []
    found: list[tuple[int, int, Window]] = []
    for rx, relation in _COMPILED:
        for m in rx.finditer(text):
            unit = m.group("u").lower()
            n = _number(m.groupdict().get("n"))
            days = max(1, round(n * _DAYS[unit] / (24 if unit == "hour" else 1)))
            anchor = m.groupdict().get("anchor") or m.groupdict().get("anchor2")
            if anchor:
                anchor = re.sub(r"\s+", " ", anchor.lower())
                anchor = _ANCHOR_NAMES.get(anchor, anchor)
            end = m.start() + len(m.group().rstrip())
            found.append((m.start(), end, Window(days=days, relation=relation, anchor=anchor,
                                                 start=m.start(), end=end)))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[Window] = []
    last_end = -1
    for start, end, w in found:
        if start >= last_end:
            kept.append(w)
            last_end = end
    return kept
