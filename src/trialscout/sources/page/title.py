"""The page's study title, and whether another text names the same study.

A title is taken from a title label, else the top heading, else the first early line that reads
like a study title; site names, dates, questions and lines addressing the reader are not titles.
``same_title`` lets the id reader tell a page's own registry title from one it only cites.
"""

from __future__ import annotations

import re
import unicodedata

from .dates import parse_date
from .lines import Line, is_sentence
from .sections import Section, value_texts
from .vocab import SCALAR, vocabulary

_STOP = {"the", "a", "an", "of", "in", "for", "with", "and", "or", "to", "on", "at", "by", "vs", "versus", "study",
         "trial"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).casefold())
            if len(w) > 2 and w not in _STOP}


def same_title(title: str | None, other: str) -> bool:
    """Whether `other` (possibly cut off with '...') names the same study as `title`."""
    if not title:
        return False
    other = re.split(r"\.\.\.|…", other)[0]
    mine, theirs = _words(title), _words(other)
    common = mine & theirs
    return bool(theirs) and len(common) >= min(2, len(theirs)) and len(common) >= 0.6 * min(len(mine), len(theirs))


def find_title(sections: list[Section], lines: list[Line]) -> str | None:
    """The page's title: labelled, else the top heading, else the first line that reads like a title."""
    for section in sections:
        if section.name == "brief_title":
            for text in value_texts(section, 2):
                if not is_sentence(text):
                    return text
    top = [line for line in lines if line.text and not line.noise][:15]
    for line in top:
        if line.heading == 1 and not line.field:
            return line.text
    free = {id(line) for s in sections if s.name is None or (s.name in SCALAR and s.value) for line in s.body}
    free |= {id(s.head) for s in sections if s.name is None and s.head is not None}
    for line in top:
        if id(line) in free and not line.marker and not line.hit and _title_score(line.text):
            return line.text
    return None


def _title_score(text: str) -> int:
    """How much a line reads like a study title; 0 when it cannot be one (a site name, a date, a question)."""
    words = text.split()
    lowered = {w.casefold().strip(",:;()") for w in words}
    vocab = vocabulary()
    if not 3 <= len(words) <= 45 or len(text) > 300 or text.endswith((".", "?", "!")) or parse_date(text) \
            or not (text[0].isupper() or text[0].isdigit()) or not lowered & vocab.link_words:
        return 0
    if lowered & {"you", "your", "we", "our", "us", "i", "my"} or "|" in text:
        return 0  # a title names the study; lines that address the reader, or browser titles, do not
    return 1 + bool(lowered & vocab.study_words) + (len(words) >= 5)
