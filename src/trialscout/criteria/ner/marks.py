"""Lexicon and rule hints for the entity recognizer: the ``trialscout_lexicon_marks`` pipeline component.

Tokens covered by a curated-lexicon match (``trialscout.criteria.nlp.mentions``), a threshold
(``thresholds.find_thresholds``) or a time window (``temporal.find_windows``) get ``token.norm_`` set
to a category marker ("@condition", "@drug", ..., "@value", "@temporal"; a trailing "-" marks tokens
after the first of a match). The model embeds NORM next to LOWER, so word identity is kept and the
marker is an extra feature. Importing this module registers the component; ``load_model`` does so
before ``spacy.load``.

The markers come from the lexicon as installed, so lexicon edits shift the model's inputs a little
(more synonyms mostly help: the model learnt "@drug" means drug, whatever the word).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

__all__ = ["NAME", "mark", "spans"]

NAME = "trialscout_lexicon_marks"


def spans(text: str) -> list[tuple[str, int, int]]:
    """(marker, start, end) hints of one line; later entries win where they overlap earlier ones."""
    from ..nlp import mentions
    from ..numbers import normalize_text
    from ..temporal import find_windows
    from ..thresholds import find_thresholds

    line = normalize_text(text)  # one character to one character: offsets stay valid
    out = [("value", t.start, t.end) for t in find_thresholds(line)]
    out += [("temporal", w.start, w.end) for w in find_windows(line)]
    out += [(m.kind, m.start, m.end) for m in mentions(line)]
    return out


def mark(doc: Doc) -> Doc:
    labels: dict[int, str] = {}
    for kind, s, e in spans(doc.text):
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is None:
            continue
        for k, tok in enumerate(span):
            labels[tok.i] = f"@{kind}" if k == 0 else f"@{kind}-"
    for i, marker in labels.items():
        doc[i].norm_ = marker
    return doc


@Language.component(NAME)
def trialscout_lexicon_marks(doc: Doc) -> Doc:
    return mark(doc)
