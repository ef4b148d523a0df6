"""Reader for the Chia corpus (Kury et al., Scientific Data 2020, CC BY 4.0) in brat standoff format.

Each trial has ``NCTxxxxxxxx_inc.txt``/``.ann`` and ``..._exc.txt``/``.ann``. Brat offsets count characters
of the raw ``.txt`` (line endings included, ``\\r`` too), so texts are read with ``newline=""``: any newline
translation would shift every offset after the first CRLF.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# The entity types the shipped model is trained and scored on.
TARGET_TYPES: tuple[str, ...] = ("Condition", "Drug", "Procedure", "Measurement", "Value", "Temporal", "Person")

_NAME = re.compile(r"^(NCT\d+)_(inc|exc)$")
# Criteria are line based; some Chia files separate lines with a bare "\r", so split on any line ending.
_LINE = re.compile(r"[^\r\n]+")


@dataclass(slots=True)
class ChiaDoc:
    trial_id: str
    section: str  # "inc" or "exc"
    text: str
    gold: list[tuple[str, int, int]] = field(default_factory=list)  # (label, start, end), sorted
    path: Path | None = None


@dataclass(slots=True)
class ReadStats:
    documents: int = 0
    spans: int = 0
    discontinuous: int = 0
    misaligned: int = 0  # text[start:end] differs from the annotated text (after whitespace cleanup)
    malformed: int = 0
    missing_ann: int = 0


def heldout(trial_id: str) -> bool:
    """Fixed split: ~20% of trials, chosen by a stable hash so it never changes between runs or machines."""
    return _bucket(trial_id) < 20


def dev(trial_id: str) -> bool:
    """~10% of the trials (disjoint from held-out) kept out of training for model selection."""
    return 20 <= _bucket(trial_id) < 30


def _bucket(trial_id: str) -> int:
    return int.from_bytes(hashlib.sha1(trial_id.encode()).digest()[:4], "big") % 100


def lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-empty line, without its line ending."""
    for m in _LINE.finditer(text):
        yield m.start(), m.end()


def parse_ann(content: str, text: str, name: str = "<ann>", stats: ReadStats | None = None
              ) -> list[tuple[str, int, int]]:
    """Text-bound annotations (T lines) as (label, start, end); relations, attributes and notes are ignored.

    A discontinuous span ("3 10;15 20") becomes its full extent (3..20): the recognizer predicts contiguous
    spans, and under overlap scoring the extent matches a prediction of any of its fragments.
    """
    stats = stats if stats is not None else ReadStats()
    out: set[tuple[str, int, int]] = set()
    for lineno, line in enumerate(content.splitlines(), 1):
        if not line.startswith("T"):
            continue
        try:
            parts = line.split("\t")
            label, _, offsets = parts[1].partition(" ")
            frags = [tuple(int(x) for x in frag.split()) for frag in offsets.split(";")]
            if not label or any(len(f) != 2 or not 0 <= f[0] < f[1] <= len(text) for f in frags):
                raise ValueError("bad offsets")
        except (IndexError, ValueError):
            stats.malformed += 1
            log.warning("%s:%d: malformed annotation line skipped: %r", name, lineno, line[:80])
            continue
        start, end = min(f[0] for f in frags), max(f[1] for f in frags)
        stats.spans += 1
        stats.discontinuous += len(frags) > 1
        if len(parts) > 2 and " ".join(text[a:b] for a, b in frags).split() != parts[2].split():
            stats.misaligned += 1
        out.add((label, start, end))
    return sorted(out, key=lambda s: (s[1], s[2], s[0]))


def read_chia(directory: str | Path, stats: ReadStats | None = None) -> list[ChiaDoc]:
    """Every ``*_inc``/``*_exc`` document in ``directory`` that has both a .txt and a .ann file."""
    stats = stats if stats is not None else ReadStats()
    docs: list[ChiaDoc] = []
    for txt in sorted(Path(directory).glob("*.txt")):
        m = _NAME.match(txt.stem)
        if not m:
            continue
        ann = txt.with_suffix(".ann")
        if not ann.exists():
            stats.missing_ann += 1
            log.warning("%s: no .ann file, document skipped", txt.name)
            continue
        with open(txt, encoding="utf-8", errors="replace", newline="") as fh:
            text = fh.read()
        with open(ann, encoding="utf-8", errors="replace", newline="") as fh:
            gold = parse_ann(fh.read(), text, ann.name, stats)
        docs.append(ChiaDoc(m.group(1), m.group(2), text, gold, txt))
        stats.documents += 1
    if stats.malformed:
        log.warning("%d malformed annotation lines skipped", stats.malformed)
    return docs
