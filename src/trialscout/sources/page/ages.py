"""Reading age limits as pages state them ('18 Years and older', '18-75', 'Age: 18+') into model Ages.

Ages are returned in ClinicalTrials.gov's spelling ('18 Years') so that a page and an API record
of the same trial compare equal; a number without a unit is taken as years.
"""

from __future__ import annotations

import re
import unicodedata

from trialscout.model import Age
from trialscout.model.normalize import parse_age

from .vocab import fold, vocabulary

_UNIT = r"(years?|yrs?|y|months?|mos?|weeks?|wks?|days?)?"
_UNITS = {"y": "Years", "yr": "Years", "yrs": "Years", "year": "Years", "years": "Years", "month": "Months",
          "months": "Months", "mo": "Months", "mos": "Months", "week": "Weeks", "weeks": "Weeks", "wk": "Weeks",
          "wks": "Weeks", "day": "Days", "days": "Days"}
_NUM = r"(\d{1,3}(?:\.\d+)?)"


def _age(number: str, unit: str | None) -> Age | None:
    """An Age in ClinicalTrials.gov's spelling ('18 Years'); the unit defaults to years."""
    return parse_age(f"{number} {_UNITS.get((unit or 'years').casefold(), 'Years')}")


def _age_text(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).casefold()
    for a, b in (("≥", ">="), ("≤", "<="), ("–", "-"), ("—", "-"), ("⩾", ">="), ("⩽", "<=")):
        value = value.replace(a, b)
    return value


def parse_age_range(text: str) -> tuple[Age | None, Age | None]:
    """'18 Years and older' -> (18, None); '18 years to 75 years (Adult)' -> (18, 75); 'Age: 18+' -> (18, None)."""
    value = _age_text(text)
    if m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:-|to|through|until|and)\s*{_NUM}\s*{_UNIT}", value):
        low_unit = m.group(2) or m.group(4)
        return _age(m.group(1), low_unit), _age(m.group(3), m.group(4) or m.group(2))
    low = high = None
    if m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:\+|(?:and|or) (?:older|over|above|up|more)|plus|or greater)", value):
        low = _age(m.group(1), m.group(2))
    elif m := re.search(rf"(?:>=?|at least|minimum(?: of)?|min\.?|over|older than|above|from|aged)\s*{_NUM}\s*{_UNIT}",
                        value):
        low = _age(m.group(1), m.group(2))
    if m := re.search(rf"(?:<=?|up to|under|younger than|below|less than|maximum(?: of)?|max\.?|until)\s*"
                      rf"{_NUM}\s*{_UNIT}", value):
        high = _age(m.group(1), m.group(2))
    elif m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:and|or) (?:younger|under|less)", value):
        high = _age(m.group(1), m.group(2))
    return low, high


def parse_single_age(text: str) -> Age | None:
    """'18 Years' as the value of a minimum or maximum age label ('N/A' -> None)."""
    m = re.fullmatch(rf"\s*{_NUM}\s*{_UNIT}\s*(?:\([^)]*\))?\s*", _age_text(text))
    return _age(m.group(1), m.group(2)) if m else None


def parse_std_ages(text: str) -> list[str]:
    """'(Adult, Older Adult)' -> ['ADULT', 'OLDER_ADULT']."""
    table = vocabulary().std_ages
    out: list[str] = []
    for group in re.findall(r"\(([^)]*)\)", text):
        for part in re.split(r"[,;/]", group):
            if (value := table.get(fold(part))) and value not in out:
                out.append(value)
    return out
