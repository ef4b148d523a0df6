"""Numbers and comparators in criteria text.

``normalize_text`` only ever maps one character to one character, so offsets found in its output
index the original text unchanged. Deliberately NOT mapped (they would change length or meaning):
superscript digits (``10⁹`` must not become ``109``; the regexes read them directly), ligatures,
fractions such as ``½``, and ``≤``/``≥`` themselves (kept as single characters; variants like ``≦``
and ``⩽`` are folded into them).
"""

from __future__ import annotations

import re

__all__ = [
    "normalize_text", "parse_number", "parse_mantissa", "parse_comparator",
    "COMPARATOR_RE", "COMPARATOR_PHRASES", "MANTISSA_RE", "TRAILING_RE", "OPS", "NUMBER_WORDS",
]

_ONE_TO_ONE: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_ONE_TO_ONE.update({ord(k): v for k, v in {
    "\u3000": " ", "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ",
    "\u205f": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ",
    "\u2008": " ", "\u2028": " ", "\u2029": " ",
    "≦": "≤", "⩽": "≤", "≲": "≤", "≧": "≥", "⩾": "≥", "≳": "≥", "﹤": "<", "﹥": ">", "﹦": "=",
    "×": "x", "✕": "x", "⨯": "x", "∗": "*",
    "µ": "u", "μ": "u",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-", "﹣": "-", "－": "-",
    "，": ",", "．": ".", "٫": ".",
}.items()})


def normalize_text(s: str) -> str:
    """Same-length ASCII-ish folding (full-width forms, odd spaces, dashes, ×, µ/μ -> u, ≦ -> ≤)."""
    return s.translate(_ONE_TO_ONE)


NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

# Bounded, non-nested quantifiers only: every piece is linear to match and to fail.
MANTISSA_RE = _MANTISSA = (
    r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d{1,3}(?: \d{3})+(?![\d.,])|\d+(?:[.,]\d+)?|\.\d+)"
)
_EXPONENT = r"(?:\s?[x*]\s?10\s?(?:\^|\*\*)?\s?[-⁻]?[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}|[eE][-+]?\d{1,3})"
_POWER_ONLY = r"10\s?(?:\^|\*\*)\s?[-⁻]?[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}|10[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}"
_NUMBER_FULL = re.compile(rf"\s*(?P<m>{_MANTISSA})?(?P<e>{_EXPONENT}|{_POWER_ONLY})?\s*", re.I)
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_EXP_BASE = re.compile(r"\s?[x*]?\s?10\s?(?:\^|\*\*)?\s?", re.I)


def parse_mantissa(m: str) -> float | None:
    """A ``MANTISSA_RE`` match -> float (thousands commas/spaces, decimal comma); None if ambiguous."""
    if "," in m:
        head, _, tail = m.rpartition(",")
        if head.count(",") == 0 and "." not in m and len(tail) != 3:
            # "1,5" / "1,25": a single comma not followed by exactly 3 digits can only be a decimal comma.
            m = f"{head}.{tail}"
        elif _THOUSANDS.fullmatch(m):
            m = m.replace(",", "")
        else:
            return None
    return float(m.replace(" ", ""))


def parse_number(s: str) -> float | None:
    """Parse one number: "100,000", "100 000", ".5", "1,5" (decimal comma), "3.0 x 10^9",
    "1.5 × 10⁹", "10^9", "10e9", or a word "one".."twelve". None if ``s`` is not exactly a number.

    A comma followed by exactly three digits is always a thousands separator ("1,500" == 1500);
    "1.234,5" style (dot thousands + decimal comma) is rejected as ambiguous.
    """
    t = normalize_text(s).strip()
    word = NUMBER_WORDS.get(t.lower())
    if word is not None:
        return float(word)
    m = _NUMBER_FULL.fullmatch(t)
    if not m or not (m["m"] or m["e"]):
        return None
    value = 1.0
    if m["m"]:
        mant = parse_mantissa(m["m"])
        if mant is None:
            return None
        value = mant
    if m["e"]:
        e = m["e"]
        if e[:1] in "eE":
            return value * 10.0 ** int(e[1:])
        base = _EXP_BASE.match(e)
        power = e[base.end():] if base else ""
        if not power:
            return None
        value *= 10.0 ** int(power.translate(_SUPER))
    return value


def _alt(*phrases: str) -> str:
    """Word phrases -> regex alternation (longest first, flexible spacing, word-bounded)."""
    parts = sorted(phrases, key=len, reverse=True)
    # One shared \b guard: a position that is not a word start fails once, not once per phrase.
    return r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in parts) + r")\b"


_EQ_TO = r"(?:\s+to)?"
_LE = ("no more than", "not more than", "not exceeding", "not to exceed", "not exceed", "at most", "up to",
       "maximum of", "maximum", "max of", "no greater than", "not greater than", "no higher than",
       "not higher than", "not above", "no more then", "no larger than", "not over")
_GE = ("at least", "no less than", "not less than", "minimum of", "minimum", "no lower than", "not lower than",
       "no fewer than", "not fewer than", "not below", "no smaller than", "not under", "no less then")
_LT = ("less than", "lower than", "below", "under", "fewer than", "smaller than", "less then", "lower then")
_GT = ("greater than", "more than", "higher than", "above", "over", "exceeding", "exceeds", "in excess of",
       "larger than", "greater then", "more then", "higher then")
COMPARATOR_PHRASES: tuple[str, ...] = (*_LE, *_GE, *_LT, *_GT, "equal to", "equals")
_SMALLER, _BIGGER = r"(?:less|lower|smaller|fewer)", r"(?:greater|more|higher|larger)"
_LE_COMBO = (rf"\b{_SMALLER}\s+than\s+or\s+equal{_EQ_TO}\b|\bequal\s+(?:to\s+)?or\s+(?:{_SMALLER}\s+than|below|under)\b"
             r"|=\s?or\s?<")
_GE_COMBO = (rf"\b(?:{_BIGGER}|great)\s+(?:than\s+)?or\s+equal{_EQ_TO}\b|\bequal\s+(?:to\s+)?or\s+(?:{_BIGGER}\s+than|above|over)\b"
             r"|=\s?or\s?>")

# One alternation with a named group per canonical op; ``m.lastgroup`` names the op.
COMPARATOR_RE = (
    rf"(?P<le>{_LE_COMBO}|<\s?or\s?=|<\s?/\s?=|<=|=<|≤=?|{_alt(*_LE)})"
    rf"|(?P<ge>{_GE_COMBO}|>\s?or\s?=|>\s?/\s?=|>=|=>|≥=?|{_alt(*_GE)})"
    rf"|(?P<lt>{_alt(*_LT)}|<(?!<))"
    rf"|(?P<gt>{_alt(*_GT)}|>(?!>))"
    rf"|(?P<eq>\bequal\s+to\b|\bequals\b|=)"
)
OPS = {"le": "<=", "ge": ">=", "lt": "<", "gt": ">", "eq": "="}
_COMPARATOR_FULL = re.compile(rf"\s*(?:{COMPARATOR_RE})\s*", re.I)

# Comparator written after the value: "20 mg or more", "18 years and older".
TRAILING_RE = re.compile(
    r"\s*(?:of\s+age\s+|old\s+)?(?:or|and)\s+(?:(?P<ge>more|greater|higher|above|over|older|up)"
    r"|(?P<le>less|lower|below|fewer|under|younger))\b",
    re.I,
)


def parse_comparator(s: str) -> str | None:
    """Canonical op ("<", "<=", ">", ">=", "=") for a comparator written alone, e.g. "no more than",
    "=<", "≧", "or more"; None if ``s`` is not exactly one comparator."""
    t = normalize_text(s)
    m = _COMPARATOR_FULL.fullmatch(t)
    if m:
        return OPS[m.lastgroup or "eq"]
    m = TRAILING_RE.fullmatch(t)
    if m:
        return ">=" if m["ge"] else "<="
    return None
