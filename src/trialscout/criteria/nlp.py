"""The spaCy pipeline shared by criteria parsing and (later) patient notes: tokenizer, lexicon phrase
matcher and medspaCy's ConText for negation / history / hypothetical / family context.

Built once per process from a blank English model: nothing is downloaded. ConText uses our own rules
(``context_rules.json``: literal phrases tuned for eligibility wording, e.g. "prior" is historical and
"no more than" is not a negation) and runs only when the text holds one of its trigger phrases, since
it is the costliest step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .lexicon import lexicon

__all__ = ["Mention", "mentions", "pipeline"]

# Tokens are runs of letters, numbers, or single symbols: "ALT>2.5xULN", "CD20", "IL-6" all split the
# same way in the text and in the lexicon phrases, so phrases match on token boundaries. This is ~5x
# faster than spaCy's rule tokenizer, and thresholds are read from the raw text anyway.
_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?|\S")


class _Tokenizer:
    def __init__(self, vocab: Any) -> None:
        from spacy.tokens import Doc

        self.vocab, self.doc = vocab, Doc

    def __call__(self, text: str) -> Any:
        words: list[str] = []
        spaces: list[bool] = []
        last = 0
        for m in _TOKEN.finditer(text):
            gap = text[last:m.start()]
            if gap:  # whitespace other than one plain space becomes its own token, so doc.text == text
                if gap == " " and words:
                    spaces[-1] = True
                else:
                    words.append(gap)
                    spaces.append(False)
            words.append(m.group())
            spaces.append(False)
            last = m.end()
        if last < len(text):
            words.append(text[last:])
            spaces.append(False)
        # One criterion is one ConText scope, cut after "." and ";" so "No X. History of Y" keeps Y
        # positive; set here because per-token assignment afterwards costs as much as tokenizing.
        starts = [i == 0 or words[i - 1] in (".", ";") for i in range(len(words))]
        return self.doc(self.vocab, words=words, spaces=spaces, sent_starts=starts)


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


def _tokens(text: str) -> list[re.Match]:
    return list(_TOKEN.finditer(text))


@dataclass(frozen=True, slots=True)
class _Pipeline:
    nlp: Any  # spacy.Language; spaCy is imported on first use so commands that never parse start fast
    trie: dict  # lexicon phrases as nested dicts of lower-cased tokens
    context: Any  # medspaCy ConText component
    triggers: re.Pattern


@cache
def pipeline() -> _Pipeline:
    import medspacy  # noqa: F401  (registers the medspacy_context factory)
    import spacy
    from medspacy.context import ConTextRule

    nlp = spacy.blank("en")
    nlp.tokenizer = _Tokenizer(nlp.vocab)
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
    literals = sorted({r.literal.lower() for r in rules if r.category not in ("TERMINATE", "PSEUDO")},
                      key=len, reverse=True)
    # A cheap pre-check: ConText can only change anything if one of its trigger phrases is in the text.
    triggers = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, literals)) + r")(?!\w)", re.I)
    return _Pipeline(nlp, trie, context, triggers)


def _match(trie: dict, text: str) -> list[tuple[str, str, int, int]]:
    """Longest lexicon phrases, left to right, without overlaps: (kind, concept, start, end)."""
    toks = _tokens(text)
    words = [t.group().lower() for t in toks]
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
            out.append((kind, concept, toks[i].start(), toks[j - 1].end()))
            i = j
        else:
            i += 1
    return out


def mentions(text: str) -> list[Mention]:
    """Lexicon concepts in ``text`` (longest match wins where they overlap), with ConText attributes."""
    p = pipeline()
    found = _match(p.trie, text)
    if not found or not p.triggers.search(text):
        return [Mention(kind, concept, s, e) for kind, concept, s, e in found]
    doc = p.nlp.make_doc(text)
    doc.ents = [doc.char_span(s, e, label=f"{kind}\t{concept}") for kind, concept, s, e in found]
    doc = p.context(doc)
    return [Mention(kind, concept, s, e, ent._.is_negated, ent._.is_historical, ent._.is_hypothetical,
                    ent._.is_family)
            for (kind, concept, s, e), ent in zip(found, doc.ents, strict=True)]
