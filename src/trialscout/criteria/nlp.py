"""The spaCy pipeline shared by criteria parsing and (later) patient notes: tokenizer, lexicon phrase
matcher and medspaCy's ConText for negation / history / hypothetical / family context.

Built once per process from a blank English model: nothing is downloaded. Only the tokenizer runs on
every criterion; ConText runs only when the text holds one of its trigger words, because most
criteria have none and it is the costliest step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from typing import Any

from .lexicon import lexicon

__all__ = ["Mention", "mentions", "pipeline"]

# Split comparators and separators glued to words ("ALT>2.5", "CK/aldolase", "IVIg;") so lexicon
# phrases match on token boundaries; the thresholds are read from the raw text, not from tokens.
_EXTRA_INFIXES = [r"(?<=[\w%)])(?:<=|>=|=<|=>|[<>≤≥=;:/,])", r"(?:<=|>=|=<|=>|[<>≤≥=;:/,])(?=[\w(])"]


@dataclass(frozen=True, slots=True)
class Mention:
    """A lexicon concept found in a text, with ConText's verdicts."""

    kind: str
    concept: str
    start: int  # character offsets into the text
    end: int
    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False


@dataclass(frozen=True, slots=True)
class _Pipeline:
    nlp: Any  # spacy.Language; spaCy is imported on first use so commands that never parse start fast
    matcher: Any
    context: Any  # medspaCy ConText component
    triggers: re.Pattern
    span: Any  # spacy.tokens.Span
    filter_spans: Any


@cache
def pipeline() -> _Pipeline:
    import spacy
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Span
    from spacy.util import compile_infix_regex, filter_spans

    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes) + _EXTRA_INFIXES
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    lex = lexicon()
    for (kind, name), concept in lex.concepts.items():
        label = f"{kind}\t{name}"
        phrases = {name, *concept.synonyms}
        matcher.add(label, [nlp.make_doc(p) for p in phrases])
    import medspacy  # noqa: F401  (registers the medspacy_context factory)

    context = nlp.add_pipe("medspacy_context")
    literals = {rule.literal.lower() for rule in context.rules if rule.literal}
    words = sorted({w for lit in literals for w in re.findall(r"[a-z]+", lit) if len(w) > 2}, key=len,
                   reverse=True)
    # A cheap pre-check: ConText can only fire if one of its rules' words is in the text.
    triggers = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")", re.I)
    return _Pipeline(nlp, matcher, context, triggers, Span, filter_spans)


def mentions(text: str) -> list[Mention]:
    """Lexicon concepts in ``text``, longest match first where they overlap, with ConText attributes."""
    p = pipeline()
    doc = p.nlp.make_doc(text)
    spans = p.filter_spans([p.span(doc, s, e, label=label) for label, s, e in p.matcher(doc)])
    if not spans:
        return []
    # One criterion is one ConText scope, cut at sentence ends so "No X. History of Y" keeps Y positive.
    for tok in doc:
        tok.is_sent_start = tok.i == 0 or doc[tok.i - 1].text in (".", ";")
    doc.ents = spans
    if p.triggers.search(text):
        doc = p.context(doc)  # type: ignore[operator]
        flags = [(e._.is_negated, e._.is_historical, e._.is_hypothetical, e._.is_family) for e in doc.ents]
    else:
        flags = [(False, False, False, False)] * len(doc.ents)
    out = []
    for ent, (neg, hist, hyp, fam) in zip(doc.ents, flags, strict=True):
        kind, concept = ent.label_.split("\t", 1)
        out.append(Mention(kind, concept, ent.start_char, ent.end_char, neg, hist, hyp, fam))
    return out

