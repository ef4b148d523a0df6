"""Threshold extraction: "ANC ≥ 1.5 x 10^9/L", "AST > 2.5 x ULN", "age 18-75 years" -> Threshold.

One left-to-right scan per text with regexes compiled at import. Every pattern uses bounded
repetition and no nested quantifiers, and each anchor does a bounded amount of work (at most five
unit tokens), so time is linear in the input even for 100 kB of binary garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from .numbers import (
    COMPARATOR_PHRASES,
    COMPARATOR_RE,
    MANTISSA_RE,
    NUMBER_WORDS,
    OPS,
    TRAILING_RE,
    normalize_text,
    parse_mantissa,
)
from .units import normalize_unit

__all__ = ["Threshold", "find_thresholds"]


@dataclass(frozen=True, slots=True)
class Threshold:
    """One comparison. ``text[start:end]`` spans comparator, number, unit / ULN phrase (not the sex
    qualifier). ``op == "between"`` means ``value <= x <= high``. ``alternative`` marks the same limit
    restated in other units, as in "≤ 1.5 mg/dl (≤ 26 µmol/l)"."""

    op: str
    value: float
    unit: str | None = None
    unit_text: str | None = None
    relative_to: str | None = None
    sex: str | None = None
    high: float | None = None
    scale_max: float | None = None
    start: int = 0
    end: int = 0
    alternative: bool = False


_WORDS = "|".join(NUMBER_WORDS)
_NUM = rf"(?:{MANTISSA_RE}|\b(?:{_WORDS})\b)"
# The lookahead is a cheap first-character filter: without it every position of the text would try
# all ~100 comparator branches, which made the anchor search 5x slower. Bare numbers (ranges,
# trailing comparators) must not be glued to words, codes, dates or exponents.
_FIRST = "".join(sorted({w[0] for w in (*COMPARATOR_PHRASES, *NUMBER_WORDS, "between", "from")}))
_ANCHOR = re.compile(
    rf"(?=[<>=≤≥\d.]|\b[{_FIRST}])"
    rf"(?:{COMPARATOR_RE}|(?P<rng>\bbetween\b|\bfrom\b)|(?P<num>(?<![\w.,/^:*+-]){_NUM}(?!\d)))",
    re.I,
)
_CMP = re.compile(COMPARATOR_RE, re.I)
# "(?!:\d)": clock times and ratios such as titres "1:80" are not supported as values.
_VALUE = re.compile(rf"[ \t:]{{0,4}}(?P<sign>-(?=\s?\d)\s?)?(?P<n>{_NUM})(?!\d|:\d)", re.I)
_ECHO = re.compile(r"[ \t]?\(\\?[<>=≤≥]{1,2}\)")  # "greater than (>) 3": the symbol restated
_POW10 = re.compile(r"[ \t]?(?:(?:\^|\*\*)[ \t]?(-?\d{1,2})|([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}))(?!\d)")
_SCALE = re.compile(r"[ \t]?/[ \t]?(\d{1,6}(?:\.\d{1,3})?)(?![\d.]|[a-zA-Z])")
_MMHG = re.compile(r"[ \t]?mm[ \t]?hg\b", re.I)
_REF = (
    r"(?:the\s+)?(?:(?:institutional|institution's|local|site|laboratory|lab|normal)\s+)?"
    r"(?:(?P<uln>ULN|ULRR|upper\s+limits?(?:\s+of\s+(?:the\s+)?(?:normal|reference)(?:\s+range)?)?|upper\s+"
    r"(?:normal|reference)\s+limits?|normal\s+upper\s+limits?|(?<=times\s)normal|(?<=x\s)normal)|(?P<lln>LLN|LLRR|lower\s+limits?\s+of\s+"
    r"(?:the\s+)?(?:normal|reference)(?:\s+range)?|lower\s+(?:normal|reference)\s+limits?))\b"
    r"(?:\s?\((?:ULN|LLN)\))?"
)
_MULT_REF = re.compile(rf"[ \t]{{0,2}}(?:[x*]|times|-?[ \t]?fold)?[ \t]{{0,2}}{_REF}", re.I)
_REF_ONLY = re.compile(rf"[ \t]{{0,3}}{_REF}", re.I)
_EXP = re.compile(
    r"[ \t]?[x*][ \t]?10[ \t]?(?:\^|\*\*)?[ \t]?([-⁻]?[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹])", re.I
)
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_TOKEN = re.compile(r"[ \t]{0,2}([^\s,;()\[\]{}<>=≤≥]{1,25})")
_RANGE_SEP = re.compile(r"[ \t]{0,3}(?:-|to\b|and\b)[ \t]{0,3}", re.I)
_BARE_SEP = re.compile(r"[ \t]{0,2}(?:-|to\b)[ \t]{0,2}", re.I)
_DATE_TAIL = re.compile(r"[-/:.]\d")
_SEX = r"(?:(?P<m>males?|men|man|boys)|(?P<f>females?|women|woman|girls))\b"
_SEX_AFTER = re.compile(rf"[ \t]{{0,2}}(?:\([ \t]?(?:(?:in|for)\s+)?|,?[ \t]?(?:in|for|among)\s+){_SEX}", re.I)
_SEX_BEFORE = re.compile(rf"\b{_SEX}[ \t]?\)?[ \t]?:?[ \t]{{0,2}}$", re.I)
_PER_DAY = re.compile(r"[ \t]{0,2}(?:per[ \t]+day|a[ \t]+day|daily|/[ \t]?day)\b", re.I)
_ALT_OPEN = re.compile(r"[ \t]{0,2}\([ \t]{0,2}(?:or\s+|i\.e\.,?\s+|equivalent\s+to\s+)?", re.I)


class _Q(NamedTuple):
    value: float
    start: int
    end: int
    unit: str | None = None
    unit_text: str | None = None
    relative_to: str | None = None
    scale_max: float | None = None
    diastolic: tuple[float, int, int] | None = None  # "140/90 mmHg": second number's value and span
    num_end: int = 0


def _unit_at(t: str, text: str, p: int, end: int) -> tuple[str, str, int] | None:
    """Longest run of up to five tokens after ``p`` that is a known unit -> (canonical, raw, end)."""
    toks: list[tuple[int, int]] = []
    q = p
    for _ in range(5):
        m = _TOKEN.match(t, q, end)
        if not m:
            break
        toks.append(m.span(1))
        q = m.end()
    for k in range(len(toks), 0, -1):
        s0, e0 = toks[0][0], toks[k - 1][1]
        unit = normalize_unit(t[s0:e0])
        if unit:
            e0 = s0 + len(t[s0:e0].rstrip(".,;:"))
            return unit, text[s0:e0], e0
    return None


def _measure(t: str, text: str, p: int, end: int, signed: bool) -> _Q | None:
    """Number at ``p`` plus what qualifies it: /scale, x ULN, x 10^n, unit."""
    m = _VALUE.match(t, p, end)
    if not m or (m["sign"] and not signed):
        return None
    raw = m["n"]
    word = NUMBER_WORDS.get(raw.lower())
    value = float(word) if word is not None else parse_mantissa(raw)
    if value is None:
        return None
    if m["sign"]:
        value = -value
    start, e = m.start("n") - (len(m["sign"]) if m["sign"] else 0), m.end()
    if raw == "10":
        pw = _POW10.match(t, e, end)  # "10^3 copies/mL", "10 ³"
        if pw:
            value, e = 10.0 ** int((pw.group(1) or pw.group(2)).translate(_SUPER)), pw.end()
    num_end = e
    scale = _SCALE.match(t, e, end)
    if scale:
        den = float(scale.group(1))
        bp = _MMHG.match(t, scale.end(), end)
        if bp:
            u = _unit_at(t, text, scale.end(), end)
            if u:
                return _Q(value, start, u[2], u[0], u[1], diastolic=(den, scale.start(1), u[2]), num_end=num_end)
        if den > value:
            return _Q(value, start, scale.end(), scale_max=den, num_end=scale.end())
    ref = _MULT_REF.match(t, e, end)
    if ref:
        return _Q(value, start, ref.end(), relative_to="ULN" if ref["uln"] else "LLN", num_end=num_end)
    unit = _unit_at(t, text, e, end)
    if unit is None:
        exp = _EXP.match(t, e, end)
        if exp:
            value *= 10.0 ** int(exp.group(1).translate(_SUPER))
            e = num_end = exp.end()
            unit = _unit_at(t, text, e, end)
    if unit:
        return _Q(value, start, unit[2], unit[0], unit[1], num_end=num_end)
    return _Q(value, start, e, num_end=num_end)


def _make(op: str, q: _Q, start: int, end: int, **kw: object) -> Threshold:
    return Threshold(op, q.value, q.unit, q.unit_text, q.relative_to, None, None, q.scale_max, start, end, **kw)


def _comparison(t: str, text: str, m: re.Match[str], end: int) -> list[Threshold]:
    op = OPS[m.lastgroup or "eq"]
    echo = _ECHO.match(t, m.end(), end)
    after = echo.end() if echo else m.end()
    q = _measure(t, text, after, end, signed=True)
    if q is None:
        ref = _REF_ONLY.match(t, after, end)
        if not ref:
            return []
        rel = "ULN" if ref["uln"] else "LLN"
        return [Threshold(op, 1.0, relative_to=rel, start=m.start(), end=ref.end())]
    if q.diastolic:
        dia, ds, de = q.diastolic
        return [_make(op, q, m.start(), q.end), Threshold(op, dia, q.unit, q.unit_text, start=ds, end=de)]
    return [_make(op, q, m.start(), q.end)]


def _range(t: str, text: str, s: int, lo: _Q | None, end: int, bare: bool) -> list[Threshold]:
    if lo is None or lo.scale_max is not None:
        return []
    sep = (_BARE_SEP if bare else _RANGE_SEP).match(t, lo.end, end)
    if not sep:
        return []
    hi = _measure(t, text, sep.end(), end, signed=False)
    if hi is None or hi.value < lo.value or hi.scale_max is not None:
        return []
    if bare:
        if _DATE_TAIL.match(t, hi.num_end, end):
            return []
        years = all(v.is_integer() and 1900 <= v <= 2100 for v in (lo.value, hi.value))
        if years and not (hi.unit or lo.unit):
            return []
    unit, unit_text = (hi.unit, hi.unit_text) if hi.unit else (lo.unit, lo.unit_text)
    rel = hi.relative_to or lo.relative_to
    return [Threshold("between", lo.value, unit, unit_text, rel, None, hi.value, None, s, hi.end)]


def _bare(t: str, text: str, m: re.Match[str], end: int) -> list[Threshold]:
    q = _measure(t, text, m.start(), end, signed=False)
    if q is None:
        return []
    found = _range(t, text, m.start(), q, end, bare=True)
    if found:
        return found
    trail = TRAILING_RE.match(t, q.end, end)
    if not trail:
        return []
    op, stop = ">=" if trail["ge"] else "<=", trail.end()
    # "20 mg or more per day": the rate comes after the comparator
    daily = _PER_DAY.match(t, stop, end) if q.unit and "/" not in q.unit else None
    if daily and (unit := normalize_unit(f"{q.unit}/day")):
        q, stop = q._replace(unit=unit, unit_text=f"{q.unit_text} {daily.group().strip()}"), daily.end()
    return [_make(op, q, q.start, stop)]


def _sex(t: str, th: Threshold, lo: int, end: int) -> str | None:
    # A qualifier just before wins: in "men: < 13, women: < 12" the word after "< 13" is the next one's.
    m = _SEX_BEFORE.search(t, max(lo, th.start - 25), th.start) or _SEX_AFTER.match(t, th.end, end)
    if not m:
        return None
    return "male" if m["m"] else "female"


def _alternative(t: str, text: str, prev: Threshold, end: int) -> Threshold | None:
    """"≤ 1.5 mg/dl (≤ 26 µmol/l)" / "≥ 10 g/dL (100 g/L)": the same limit in other units."""
    if prev.unit is None:
        return None
    o = _ALT_OPEN.match(t, prev.end, end)
    if not o:
        return None
    cm = _CMP.match(t, o.end(), end)
    q = _measure(t, text, cm.end() if cm else o.end(), end, signed=bool(cm))
    if q is None or q.unit is None or q.unit == prev.unit or q.diastolic:
        return None
    op = OPS[cm.lastgroup or "eq"] if cm else prev.op
    return _make(op, q, cm.start() if cm else q.start, q.end, alternative=True)


def find_thresholds(text: str, start: int = 0, end: int | None = None) -> list[Threshold]:
    """Every comparison in ``text[start:end]``, in order; offsets index ``text`` itself.

    A bare number is not a threshold unless it is part of a range ("18-75 years", "between 18 and
    35 kg/m2") or carries a trailing comparator ("20 mg or more").
    """
    n = len(text)
    end = n if end is None else max(0, min(end, n))
    start = max(0, start)
    t = normalize_text(text[:end])
    out: list[Threshold] = []
    pos = start
    while pos < end:
        m = _ANCHOR.search(t, pos, end)
        if m is None:
            break
        kind = m.lastgroup
        if kind == "num":
            found = _bare(t, text, m, end)
        elif kind == "rng":
            lo = _measure(t, text, m.end(), end, signed=False)
            found = _range(t, text, m.start(), lo, end, bare=False)
        else:
            found = _comparison(t, text, m, end)
        if not found:
            pos = m.end() if m.end() > pos else pos + 1
            continue
        for th in found:
            sex = _sex(t, th, start, end)
            out.append(th if sex is None else replace(th, sex=sex))
        alt = _alternative(t, text, found[-1], end)
        if alt is not None:
            out.append(alt)
        pos = max(pos + 1, out[-1].end)
    return out
