"""How far a trial imported from a page agrees with a reference record of the same trial.

Used by the page-import tests (against the hand transcriptions of the seed pages) and meant for
an eval command. Each field is compared after the normalisation a reader would apply anyway:
case, whitespace, Markdown escapes, trailing punctuation, and for criteria the bullet or number
in front of each item. A field that neither record has is not compared (None), so a page that
does not state something and a transcription that left it out do not count as agreement.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from trialscout.model import Trial

from ..ctgov_json import _MD_ESCAPE

# The compared fields, in report order.
FIELDS = ("nct_id", "brief_title", "overall_status", "phases", "enrollment", "lead_sponsor", "start_date",
          "completion_date", "conditions", "interventions", "minimum_age", "maximum_age", "sex",
          "inclusion_criteria", "exclusion_criteria", "locations", "central_contacts", "site_contacts")

_ITEM_MARKER = re.compile(r"^(?:[*•·▪◦‣⁃●○■□–—-]+\s*|\(?\d{1,3}[.)]\s+|\(?[a-z][.)]\s+|"
                          r"\(?(?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)]\s+)")
_HEADER = re.compile(r"^\s*(?:key\s+)?(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)


def norm(text: str | None) -> str | None:
    """Case-, space- and escape-insensitive form of a text value; None for empty text."""
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", _MD_ESCAPE.sub(r"\1", text)).casefold()
    text = " ".join(text.split()).strip(" .;,:")
    return text or None


def criteria_items(criteria: str | None) -> dict[str, list[str]]:
    """{'inclusion': [...], 'exclusion': [...]} items of an eligibility text, markers removed.

    Each non-blank line is an item (a criterion, or a line of text between them); nesting and
    blank lines are layout and do not count. Text before any heading counts as inclusion.
    """
    parts: dict[str, list[str]] = {"inclusion": [], "exclusion": []}
    current = "inclusion"
    for line in (criteria or "").splitlines():
        if m := _HEADER.match(line):
            current = m.group(1).lower()
            continue
        item = norm(_ITEM_MARKER.sub("", line.strip()))
        if item:
            parts[current].append(item)
    return parts


def _names(values: Iterable[str | None]) -> list[str]:
    return sorted(n for n in (norm(v) for v in values) if n)


def _age(trial: Trial, bound: str) -> float | None:
    age = getattr(trial.eligibility, bound, None) if trial.eligibility else None
    return round(age.years, 2) if age else None


_EXTRACT: dict[str, Callable[[Trial], object]] = {
    # The NCT id, not Trial.id: a record without one has a made-up id (a hash, or a transcriber's
    # placeholder such as 'SEED-LENALIDOMIDE-CDM') that no other record could match.
    "nct_id": lambda t: t.nct_id,
    "brief_title": lambda t: norm(t.brief_title),
    "overall_status": lambda t: t.overall_status,
    "phases": lambda t: sorted(t.phases),
    "enrollment": lambda t: t.enrollment,
    "lead_sponsor": lambda t: norm(t.lead_sponsor.name) if t.lead_sponsor else None,
    "start_date": lambda t: t.start_date.date if t.start_date else None,
    "completion_date": lambda t: t.completion_date.date if t.completion_date else None,
    "conditions": lambda t: _names(t.conditions),
    "interventions": lambda t: _names(i.name for i in t.interventions),
    "minimum_age": lambda t: _age(t, "minimum_age"),
    "maximum_age": lambda t: _age(t, "maximum_age"),
    "sex": lambda t: t.eligibility.sex if t.eligibility else None,
    "inclusion_criteria": lambda t: criteria_items(t.eligibility.criteria if t.eligibility else None)["inclusion"],
    "exclusion_criteria": lambda t: criteria_items(t.eligibility.criteria if t.eligibility else None)["exclusion"],
    "locations": lambda t: sorted((norm(s.facility) or "", norm(s.city) or "") for s in t.locations),
    "central_contacts": lambda t: _names(c.name for c in t.central_contacts),
    "site_contacts": lambda t: _names(c.name for s in t.locations for c in s.contacts),
}


def field_values(trial: Trial) -> dict[str, object]:
    """The normalised value of every compared field (None or [] when the record lacks it)."""
    return {name: _EXTRACT[name](trial) for name in FIELDS}


def compare(expected: Trial, got: Trial) -> dict[str, bool | None]:
    """Per field: True when both records agree, False when they differ, None when both lack it."""
    want, have = field_values(expected), field_values(got)
    return {name: None if want[name] in (None, []) and have[name] in (None, []) else want[name] == have[name]
            for name in FIELDS}


def agreement_counts(pairs: Iterable[tuple[Trial, Trial]]) -> dict[str, tuple[int, int]]:
    """Per field: (records agreeing, records compared) over (expected, got) pairs."""
    counts = {name: [0, 0] for name in FIELDS}
    for expected, got in pairs:
        for name, same in compare(expected, got).items():
            if same is not None:
                counts[name][0] += same
                counts[name][1] += 1
    return {name: (agree, total) for name, (agree, total) in counts.items()}


def agreement_table(pairs: Iterable[tuple[Trial, Trial]]) -> dict[str, float | None]:
    """Per field: the share of compared records that agree (None when no record had the field)."""
    return {name: (agree / total if total else None) for name, (agree, total) in agreement_counts(pairs).items()}


def overall_agreement(pairs: Iterable[tuple[Trial, Trial]]) -> float | None:
    """The share of all compared (record, field) cells that agree."""
    counts = agreement_counts(pairs).values()
    total = sum(t for _, t in counts)
    return sum(a for a, _ in counts) / total if total else None
