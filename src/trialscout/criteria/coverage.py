"""Coverage of the parser: the share of criteria parsed into a structured kind, by kind.

Headings ("Hematopoietic:") and notes ("Not specified") are counted apart: they are items of the
registry's list but not criteria, so they are neither parsed nor unparsed criteria."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import Criterion

__all__ = ["Coverage", "coverage"]


@dataclass
class Coverage:
    trials: int = 0
    criteria: int = 0  # items that state a requirement (headings and notes excluded)
    structured: int = 0
    headings_and_notes: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # criterion kind = its first fact's kind
    facts_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def share(self) -> float:
        return self.structured / self.criteria if self.criteria else 0.0

    def as_dict(self) -> dict:
        return {"trials": self.trials, "criteria": self.criteria, "structured": self.structured,
                "headings_and_notes": self.headings_and_notes,
                "structured_share": round(self.share, 4),
                "criteria_by_kind": dict(self.by_kind.most_common()),
                "facts_by_kind": dict(self.facts_by_kind.most_common())}


def coverage(parsed: Iterable[list[Criterion]]) -> Coverage:
    cov = Coverage()
    for criteria in parsed:
        cov.trials += 1
        for c in criteria:
            cov.by_kind[c.kind] += 1
            if c.role != "criterion":
                cov.headings_and_notes += 1
                continue
            cov.criteria += 1
            cov.structured += bool(c.facts)
            cov.facts_by_kind.update(f.kind for f in c.facts)
    return cov
