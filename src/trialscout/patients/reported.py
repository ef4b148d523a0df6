"""Lab results a note reports without a number: "the complete blood count and biochemical profile are
normal", "LFTs within normal limits", "elevated LDH". A lab fact then carries an ``interpretation``
(normal, high or low) and no value; the matcher decides a criterion's limit from it only when the lab's
whole reference range lies on one side of the limit (criteria lexicon ``normal``).

A panel ("CBC", "biochemical profile", "labs") vouches for the labs listed for it in panels.json.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from .model import PatientFact, Provenance

__all__ = ["interpretation_near", "panel_facts"]

_WORDS = {"normal": "normal", "wnl": "normal", "unremarkable": "normal", "elevated": "high", "high": "high", "raised": "high", "increased": "high",
          "low": "low", "decreased": "low", "reduced": "low"}
_WORD = r"(?P<word>(?:low|high|upper|lower)[\s-]+normal|within\s+(?:the\s+)?(?:normal|reference)\s+(?:limits|range)|normal|wnl|unremarkable|elevated|high|" \
        r"raised|increased|low|decreased|reduced)\b"
# "CBC and biochemical profile are normal", "LFTs: WNL", "labs were otherwise unremarkable"
_AFTER = re.compile(r"(?:\s*\([^()]{0,20}\))?(?:[^0-9.;:]{0,50}?\b(?:is|are|was|were|came\s+back|returned|remain(?:s|ed)?|"
                    r"appear(?:s|ed)?)|\s*[:=-])?\s+(?:all\s+|entirely\s+|completely\s+|otherwise\s+|also\s+)?" + _WORD,
                    re.I)
# "normal CBC", "elevated serum LDH", "low platelets"
_BEFORE = re.compile(r"(?<!not\s)(?<!\bno\s)\b(?P<word>normal|elevated|high|raised|increased|low|decreased|reduced)\s+"
                     r"(?:serum\s+|blood\s+|plasma\s+)?$", re.I)
_STOP = re.compile(r"\b(?:but|except|however|although|apart\s+from|other\s+than|not)\b|[.;]", re.I)


def interpretation_near(sentence: str, start: int, end: int) -> str | None:
    """normal / high / low when the sentence says so of the name at [start, end) and gives no number."""
    before = _BEFORE.search(sentence, max(0, start - 30), start)
    if before:
        return _WORDS[before.group("word").lower()]
    after = _AFTER.match(sentence, end)
    if after is None or _STOP.search(sentence, end, after.start("word")):
        return None
    word = " ".join(after.group("word").lower().replace("-", " ").split())
    if word.startswith("within ") or word.endswith(" normal"):  # "within the normal limits", "low normal"
        return "normal"
    return _WORDS[word]


@cache
def _panels() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    data = json.loads(files("trialscout.patients").joinpath("panels.json").read_text(encoding="utf-8"))
    out = []
    for p in data["panels"]:
        names = sorted({p["name"], *p["synonyms"]}, key=len, reverse=True)
        rx = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I)
        out.append((rx, tuple(p["labs"])))
    return tuple(out)


def panel_facts(sentence: str, prov: Provenance, named: set[str]) -> list[PatientFact]:
    """Lab facts for the panels the sentence reports as normal, high or low; labs the sentence ``named``
    itself are left to that mention."""
    facts: list[PatientFact] = []
    for rx, labs in _panels():
        for m in rx.finditer(sentence):
            word = interpretation_near(sentence, m.start(), m.end())
            if word is None:
                continue
            facts += [PatientFact(kind="lab", concept=lab, text=f"{m.group()} {word}", interpretation=word,
                                  provenance=prov) for lab in labs if lab not in named]
            break
    return facts
