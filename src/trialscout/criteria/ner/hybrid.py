"""The engine's entities: the trained recognizer first, the rule engine where the model found nothing.

The recognizer generalises to wordings no lexicon holds; the rules know every lexicon synonym and read
thresholds and windows exactly. Rule spans are added only where they overlap no model span, so the
model's boundaries win wherever both speak.
"""

from __future__ import annotations

from ..demographics import demographic_facts
from ..nlp import mentions
from ..numbers import normalize_text
from ..temporal import find_windows
from ..thresholds import find_thresholds
from . import Entity, find_entities
from .chia import lines

__all__ = ["engine_entities", "rule_entities"]

# Lexicon kinds as Chia entity types.
_TYPES = {"condition": "Condition", "drug": "Drug", "drug_class": "Drug", "vaccine": "Drug",
          "procedure": "Procedure", "lab": "Measurement", "score": "Measurement", "device": "Device"}


def rule_entities(text: str) -> list[Entity]:
    out: list[Entity] = []
    for start, end in lines(text):
        line = normalize_text(text[start:end])
        spans = [(_TYPES[m.kind], m.start, m.end) for m in mentions(line)]
        spans += [("Value", t.start, t.end) for t in find_thresholds(line)]
        spans += [("Temporal", w.start, w.end) for w in find_windows(line)]
        spans += [("Person", f.start, f.end) for f in demographic_facts(line) if f.kind == "sex"]
        out += [Entity(label, start + s, start + e, text[start + s:start + e]) for label, s, e in spans]
    return sorted(out, key=lambda e: e.start)


def engine_entities(texts: list[str]) -> list[list[Entity]]:
    merged = []
    for text, model in zip(texts, find_entities(texts), strict=True):
        extra = [r for r in rule_entities(text) if not any(r.start < m.end and m.start < r.end for m in model)]
        merged.append(sorted(model + extra, key=lambda e: e.start))
    return merged
