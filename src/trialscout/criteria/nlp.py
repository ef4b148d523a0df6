"""Concept mentions for criteria and patient notes: lexicon phrases (the lexicon's token trie) with
medspaCy's ConText deciding negation / history / hypothetical / family context.

Built once per process from a blank English model: nothing is downloaded. ConText uses our own rules
(``context_rules.json``: literal phrases tuned for eligibility wording, e.g. "prior" is historical and
"no more than" is not a negation) and runs only when the text holds one of its trigger phrases, since
it is the costliest step.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from .lexicon import TOKEN, lexicon

__all__ = ["Mention", "mentions", "pipeline"]

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
    context: Any  # medspaCy ConText component
    triggers: dict  # token trie of the phrases that set an attribute
    doc: Any  # spacy.tokens.Doc
    span: Any  # spacy.tokens.Span
    set_starts: Any  # (Doc, list[bool]) -> None: marks the sentence starts


@cache
def pipeline() -> _Pipeline:
    import medspacy  # noqa: F401  (registers the medspacy_context factory)
    import numpy
    import spacy
    from medspacy.context import ConTextRule
    from spacy.attrs import LOWER, SENT_START
    from spacy.tokens import Doc, Span

    nlp = spacy.blank("en")
    # No span attributes: the verdicts are read from the ConText graph's edges (_CATEGORIES).
    context = nlp.add_pipe("medspacy_context", config={"rules": None, "span_attrs": None})
    rules_file = resources.files(__package__).joinpath("context_rules.json")
    with resources.as_file(rules_file) as path:
        rules = ConTextRule.from_json(str(path))
    context.add(rules)
    # A cheap pre-check: ConText can only change anything if one of its trigger phrases occurs, token
    # for token as its PhraseMatcher sees it (the lower-cased literal through spaCy's tokenizer).
    triggers: dict = {}
    for r in rules:
        if r.category not in ("TERMINATE", "PSEUDO"):
            node = triggers
            for tok in nlp.tokenizer(r.literal.lower()):
                node = node.setdefault(tok.text, {})
            node[None] = True
    # ConText's matcher reads only each token's LOWER; spaCy's other lexical attributes (is_stop,
    # like_num ...) cost a Python call each for every new word a criterion brings into the vocab.
    getters = nlp.vocab.lex_attr_getters
    nlp.vocab.lex_attr_getters = {LOWER: getters[LOWER]}
    # The lexicon trie, spaCy and medspaCy are a few hundred thousand long-lived objects; frozen, the
    # cyclic garbage collector stops re-scanning them on every collection (parsing runs ~25% faster).
    lexicon().trie  # noqa: B018  (built now, so it is frozen with the rest)
    gc.freeze()

    def set_starts(doc: Doc, starts: list[bool]) -> None:
        # What Doc(sent_starts=...) does (1 starts a sentence, -1 does not) without its per-token Python loop
        doc.from_array([SENT_START], numpy.array([1 if b else -1 for b in starts], numpy.int32).astype(numpy.uint64))

    return _Pipeline(nlp, context, triggers, Doc, Span, set_starts)


# ConText modifier category -> the Mention flag it sets (medspaCy's default span attributes)
_CATEGORIES = {"NEGATED_EXISTENCE": "negated", "HISTORICAL": "historical", "HYPOTHETICAL": "hypothetical",
               "FAMILY": "family"}


def mentions(text: str) -> list[Mention]:
    """Lexicon concepts in ``text`` (longest match wins where they overlap), with ConText attributes."""
    p = pipeline()
    toks = list(TOKEN.finditer(text))
    lower = [t.group().lower() for t in toks]
    # "ICD9-211.3", "cT1N0": letters glued to a number form another word ("ICD" there is not a defibrillator).
    found = [h for h in lexicon().longest(lower)
             if not (toks[h[3] - 1].group()[-1].isalpha() and text[toks[h[3] - 1].end():toks[h[3] - 1].end() + 1].isdigit())]
    out = [Mention(kind, concept, toks[i].start(), toks[j - 1].end()) for kind, concept, i, j in found]
    if not found or not _triggered(p.triggers, lower):
        return out
    words = [t.group() for t in toks]
    spaces = [toks[k].end() < toks[k + 1].start() for k in range(len(toks) - 1)] + [False]
    # Doc tokens are the regex tokens, so offsets map back without spaCy's alignment. ConText's scope is
    # a sentence, cut after "." and ";" so "No X. History of Y" keeps Y positive.
    starts = [k == 0 or words[k - 1] in (".", ";") for k in range(len(words))]
    # A modifier's scope ends with its sentence, so ConText runs on each stretch of sentences that holds
    # a mention and a trigger phrase, as a Doc of its own: its cost grows with modifiers x mentions per
    # Doc. A mention never straddles two stretches ("St. John's wort" keeps its sentences together).
    cuts = [k for k in range(1, len(words)) if starts[k] and not any(i < k < j for _, _, i, j in found)]
    for s, e in zip([0, *cuts], [*cuts, len(words)]):
        inside = [n for n, (_, _, i, j) in enumerate(found) if s <= i and j <= e]
        if not inside or not _triggered(p.triggers, lower[s:e]):
            continue
        doc = p.doc(p.nlp.vocab, words=words[s:e], spaces=spaces[s:e])
        p.set_starts(doc, starts[s:e])
        doc.ents = [p.span(doc, found[n][2] - s, found[n][3] - s, label=found[n][0]) for n in inside]
        flags: dict[int, dict[str, bool]] = {}
        for target, modifier in p.context(doc)._.context_graph.edges:
            if modifier.category in _CATEGORIES:
                flags.setdefault(target.start + s, {})[_CATEGORIES[modifier.category]] = True
        for n in inside:
            if f := flags.get(found[n][2]):
                m = out[n]
                if f.get("negated") and _prefix_only(text, m.start):
                    del f["negated"]
                out[n] = replace(m, **f)
    return out


def _triggered(trie: dict, words: list[str]) -> bool:
    """Whether a phrase of ``trie`` occurs in ``words``."""
    for i, w in enumerate(words):
        node, j = trie.get(w), i + 1
        while node is not None:
            if None in node:
                return True
            node = node.get(words[j]) if j < len(words) else None
            j += 1
    return False


_NON_WORD = re.compile(r"\bnon-?\s?[a-z]+", re.I)
_OTHER_NEGATION = re.compile(r"\b(?:no|not|without|never|den(?:y|ies|ied)|absen(?:t|ce)|negative|free\s+of|lack|"
                             r"excluding|excluded|ruled\s+out|none|prohibited|cannot|nor)\b", re.I)


def _prefix_only(text: str, start: int) -> bool:
    """"non-visible on bronchoscopy": a "non-" prefix negates its own word, not a concept further on."""
    clause = text[max(text.rfind(".", 0, start), text.rfind(";", 0, start)) + 1:start]
    return bool(_NON_WORD.search(clause)) and not _OTHER_NEGATION.search(clause) and \
        not re.search(r"\bnon-?\s?$", clause, re.I)
