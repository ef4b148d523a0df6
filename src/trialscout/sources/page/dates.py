"""Reading a date as a page writes it ('November 17, 2025', '17 Nov 2025', 'Nov 2025') into ISO form.

Pages write dates in every national order; a date whose day and month cannot be told apart
('03/04/2025') is not read rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# Fields whose value is a date (so a "Label value" row is believed only when the value parses as one).
DATE_FIELDS = {"start_date", "primary_completion_date", "completion_date", "first_posted", "last_update_posted"}

_MONTHS = {name: i for i, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
_MON = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = (  # (pattern, order of the groups: y=year, m=month number, b=month name, d=day)
    (r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", "ymd"),
    (r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b", "ymd"),
    (rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MON},?[\s-]+(\d{{4}})\b", "dby"),
    (rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", "bdy"),
    (r"\b(\d{1,2})([./])(\d{1,2})[./](\d{4})\b", "numeric"),
    (rf"\b{_MON},?\s+(\d{{4}})\b", "by"),
    (r"\b(\d{4})-(\d{1,2})\b", "ym"),
    (r"\b(\d{1,2})/(\d{4})\b", "my"),
    (r"^\s*(\d{4})\s*$", "y"),
)


def parse_date(text: str, strict: bool = False) -> str | None:
    """'November 17, 2025' / '17 Nov 2025' / '2025-11-17' -> '2025-11-17'; 'Nov 2025' -> '2025-11'.

    Day and month of '03/04/2025' cannot be told apart, so such a date is not read.
    """
    value = unicodedata.normalize("NFKC", text).casefold()
    for pattern, order in _DATES:
        m = re.search(pattern, value)
        if not m:
            continue
        if strict and re.sub(r"\([^)]*\)|actual|anticipated|estimated|expected|planned", "",
                             value[:m.start()] + value[m.end():]).strip(" .,;:-"):
            return None
        g = m.groups()
        if order == "numeric":
            first, sep, second, year = int(g[0]), g[1], int(g[2]), int(g[3])
            if sep == "." or first > 12:
                day, month = first, second
            elif second > 12:
                day, month = second, first
            else:
                return None
            return _iso(year, month, day)
        parts = dict(zip(order, g))
        year = int(parts["y"])
        month = int(parts["m"]) if "m" in parts else (_MONTHS[parts["b"]] if "b" in parts else None)
        return _iso(year, month, int(parts["d"]) if "d" in parts else None)
    return None


def _iso(year: int, month: int | None, day: int | None) -> str | None:
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    if month is None:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
