"""The curated concept lexicon (``lexicon.json``): canonical names, synonyms, codes and hierarchy.

Drugs belong to classes ("tofacitinib" is a "JAK inhibitor"), classes and conditions may have a parent
("juvenile dermatomyositis" is a "dermatomyositis"); matching uses both directions, so a criterion
about a class is met by any member and a criterion about a parent by any descendant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources

__all__ = ["CATEGORIES", "TOKEN", "Concept", "Lexicon", "lexicon"]

# Tokens are runs of letters, numbers, or single symbols: "ALT>2.5xULN", "CD20", "IL-6" split the same
# way in a text and in the lexicon's phrases, so phrases match on token boundaries.
TOKEN = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?|\S")
_END = "\x00"  # trie key marking the end of a phrase; its value is the (kind, name) it names

# lexicon.json section -> the fact kind a mention of it yields
CATEGORIES = {
    "labs": "lab",
    "scores": "score",
    "drug_classes": "drug_class",
    "drugs": "drug",
    "conditions": "condition",
    "procedures": "procedure",
    "vaccines": "vaccine",
    "devices": "device",
}
_CODE_KEYS = ("loinc", "atc", "icd10", "rxnorm", "snomed")


@dataclass(frozen=True, slots=True)
class Concept:
    kind: str
    name: str
    synonyms: tuple[str, ...]
    codes: dict[str, str] = field(default_factory=dict)
    parents: tuple[str, ...] = ()  # drug classes for drugs, "parent" for the others
    data: dict = field(default_factory=dict)  # unit, molar_mass, min/max, live ... as in the file


class Lexicon:
    def __init__(self, raw: dict) -> None:
        self.version: str = raw.get("version", "unknown")
        self.concepts: dict[tuple[str, str], Concept] = {}
        for section, kind in CATEGORIES.items():
            for entry in raw.get(section, []):
                parents = entry.get("classes") or ([entry["parent"]] if entry.get("parent") else [])
                codes = {k: entry[k] for k in _CODE_KEYS if entry.get(k)}
                rest = {k: v for k, v in entry.items()
                        if k not in ("name", "synonyms", "classes", "parent", *_CODE_KEYS)}
                self.concepts[(kind, entry["name"])] = Concept(
                    kind, entry["name"], tuple(entry.get("synonyms", ())), codes, tuple(parents), rest)
        self._children: dict[str, set[str]] = {}
        self._parents: dict[str, set[str]] = {}
        self._closures: dict[tuple[str, int], frozenset[str]] = {}
        for c in self.concepts.values():
            for p in c.parents:
                self._children.setdefault(p, set()).add(c.name)
                self._parents.setdefault(c.name, set()).add(p)

    @cached_property
    def trie(self) -> dict:
        """Every name and synonym as nested dicts of lower-cased tokens: a dict walk per token is
        ~10x cheaper than spaCy's PhraseMatcher on a Doc, and needs no Doc at all."""
        trie: dict = {}
        variants: list[tuple[list[str], tuple[str, str]]] = []
        for (kind, name), concept in self.concepts.items():
            for phrase in {name, *concept.synonyms}:
                toks = TOKEN.findall(phrase.lower())
                _insert(trie, toks, (kind, name))
                # "anti-tuberculosis drugs" is also written "... medications", "... medicines", "... agents"
                if kind in ("drug_class", "drug") and toks and toks[-1] in _DRUG_WORDS:
                    variants += [(toks[:-1] + [w], (kind, name)) for w in _DRUG_WORDS if w != toks[-1]]
        for toks, value in variants:  # after every listed phrase, so a listed phrase always wins
            _insert(trie, toks, value)
        return trie

    def longest(self, words: list[str]) -> list[tuple[str, str, int, int]]:
        """Longest phrases over lower-cased tokens, left to right, without overlaps:
        (kind, name, first token, end token)."""
        trie, out, i = self.trie, [], 0
        while i < len(words):
            node, best, j = trie, None, i
            while j < len(words) and (node := node.get(words[j])) is not None:
                j += 1
                if _END in node:
                    best = (node[_END], j)
            if best:
                (kind, name), j = best
                out.append((kind, name, i, j))
                i = j
            else:
                i += 1
        return out

    def get(self, kind: str, name: str) -> Concept | None:
        return self.concepts.get((kind, name))

    def find(self, name: str) -> Concept | None:
        """The concept with this canonical name in any category (names are unique in practice)."""
        for kind in CATEGORIES.values():
            if (c := self.concepts.get((kind, name))) is not None:
                return c
        return None

    def ancestors(self, name: str) -> frozenset[str]:
        """Every class or parent above ``name``, transitively (not including ``name``)."""
        return self._closure(name, self._parents)

    def descendants(self, name: str) -> frozenset[str]:
        """Every member or sub-concept under ``name``, transitively (not including ``name``)."""
        return self._closure(name, self._children)

    def _closure(self, name: str, edges: dict[str, set[str]]) -> frozenset[str]:
        # Memoised: matching asks "does X cover Y" for every fact of every candidate trial, and the
        # walk was a quarter of the time per trial (bench/scale, docs/scale.md). The lexicon is immutable.
        key = (name, id(edges))
        found = self._closures.get(key)
        if found is None:
            found = self._closures[key] = frozenset(_walk(name, edges))
        return found

    def covers(self, general: str, specific: str) -> bool:
        """True when ``specific`` is ``general`` or falls under it ("JAK inhibitor" covers tofacitinib)."""
        return general == specific or specific in self.descendants(general)


_DRUG_WORDS = ("drug", "drugs", "medication", "medications", "medicine", "medicines", "agent", "agents")


def _insert(trie: dict, toks: list[str], value: tuple[str, str]) -> None:
    node = trie
    for tok in toks:
        node = node.setdefault(tok, {})
    node.setdefault(_END, value)


def _walk(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    seen.discard(start)
    return seen


@cache
def lexicon() -> Lexicon:
    text = resources.files(__package__).joinpath("lexicon.json").read_text("utf-8")
    return Lexicon(json.loads(text))
