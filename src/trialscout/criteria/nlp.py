"""The spaCy pipeline shared by criteria parsing and (later) patient notes: tokenizer, lexicon phrase
matcher and medspaCy's ConText for negation / history / hypothetical / family context.

Built once per process from a blank English model: nothing is downloaded. ConText uses our own rules
(``context_rules.json``: literal phrases tuned for eligibility wording, e.g. "prior" is historical and
"no more than" is not a negation) and runs only when the text holds one of its trigger phrases, since
it is the costliest step.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .lexicon import lexicon

__all__ = ["Mention", "mentions", "pipeline"]

# Tokens are runs of letters, numbers, or single symbols: "ALT>2.5xULN", "CD20", "IL-6" all split the
# same way in the text and in the lexicon phrases, so phrases match on token boundaries. This is ~5x
# faster than spaCy's rule tokenizer; the same tokens make the Doc ConText reads, so token i of the
# Doc is regex match i and offsets map back without spaCy's character alignment.
_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?|\S")


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


_END = "\x00"  # trie key marking the end of a phrase; its value is the (kind, concept) it names


@dataclass(frozen=True, slots=True)
class _Pipeline:
    nlp: Any  # spacy.Language; spaCy is imported on first use so commands that never parse start fast
    trie: dict  # lexicon phrases as nested dicts of lower-cased tokens
    context: Any  # medspaCy ConText component
    triggers: frozenset[str]
    doc: Any  # spacy.tokens.Doc
    span: Any  # spacy.tokens.Span


@cache
def pipeline() -> _Pipeline:
    import medspacy  # noqa: F401  (registers the medspacy_context factory)
    import spacy
    from medspacy.context import ConTextRule
    from spacy.tokens import Doc, Span

    nlp = spacy.blank("en")
    # Lexicon phrases in a token trie: a dict walk per token is ~10x cheaper than building a spaCy Doc
    # for spaCy's PhraseMatcher, and most criteria never need a Doc (only ConText does).
    trie: dict = {}
    for (kind, name), concept in lexicon().concepts.items():
        for phrase in {name, *concept.synonyms}:
            node = trie
            for tok in _TOKEN.findall(phrase.lower()):
                node = node.setdefault(tok, {})
            node.setdefault(_END, (kind, name))
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    rules_file = resources.files(__package__).joinpath("context_rules.json")
    with resources.as_file(rules_file) as path:
        rules = ConTextRule.from_json(str(path))
    context.add(rules)
    # A cheap pre-check: ConText can only change anything if the first token of one of its trigger
    # phrases is among the text's tokens (a set lookup per token, far cheaper than a regex scan).
    triggers = frozenset(_TOKEN.findall(r.literal.lower())[0] for r in rules
                         if r.category not in ("TERMINATE", "PSEUDO") and _TOKEN.findall(r.literal))
    # The trie, spaCy and medspaCy are a few hundred thousand long-lived objects; frozen, the cyclic
    # garbage collector stops re-scanning them on every collection (parsing runs ~25% faster).
    gc.freeze()
    return _Pipeline(nlp, trie, context, triggers, Doc, Span)


def _match(trie: dict, text: str) -> list[tuple[str, str, int, int]]:
    """Lexicon phrases in ``text`` as (kind, concept, start, end) character spans, without ConText."""
    toks = list(_TOKEN.finditer(text))
    return [(kind, concept, toks[i].start(), toks[j - 1].end())
            for kind, concept, i, j in _longest(trie, [t.group().lower() for t in toks])]


def _longest(trie: dict, words: list[str]) -> list[tuple[str, str, int, int]]:
    """Longest lexicon phrases, left to right, without overlaps: (kind, concept, first token, end token),
    over lower-cased tokens."""
    out = []
    i = 0
    while i < len(words):
        node, best, j = trie, None, i
        while j < len(words) and (node := node.get(words[j])) is not None:
            j += 1
            if _END in node:
                best = (node[_END], j)
        if best:
            (kind, concept), j = best
            out.append((kind, concept, i, j))
            i = j
        else:
            i += 1
    return out


def mentions(text: str) -> list[Mention]:
    """Lexicon concepts in ``text`` (longest match wins where they overlap), with ConText attributes."""
    p = pipeline()
    toks = list(_TOKEN.finditer(text))
    lower = [t.group().lower() for t in toks]
    found = _longest(p.trie, lower)
    if not found or p.triggers.isdisjoint(lower):
        return [Mention(kind, concept, toks[i].start(), toks[j - 1].end()) for kind, concept, i, j in found]
    words = [t.group() for t in toks]
    spaces = [toks[k].end() < toks[k + 1].start() for k in range(len(toks) - 1)] + [False]
    # One criterion is one ConText scope, cut after "." and ";" so "No X. History of Y" keeps Y positive.
    starts = [k == 0 or words[k - 1] in (".", ";") for k in range(len(words))]
    doc = p.doc(p.nlp.vocab, words=words, spaces=spaces, sent_starts=starts)
    doc.ents = [p.span(doc, i, j, label=kind) for kind, _, i, j in found]
    doc = p.context(doc)
    return [Mention(kind, concept, toks[i].start(), toks[j - 1].end(), ent._.is_negated, ent._.is_historical,
                    ent._.is_hypothetical, ent._.is_family)
            for (kind, concept, i, j), ent in zip(found, doc.ents, strict=True)]
