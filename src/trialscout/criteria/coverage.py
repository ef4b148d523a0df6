"""Coverage of the parser: the share of criteria parsed into a structured kind, by kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import Criterion

__all__ = ["Coverage", "coverage"]


@dataclass
class Coverage:
    trials: int = 0
    criteria: int = 0
    structured: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # criterion kind = its first fact's kind
    facts_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def share(self) -> float:
        return self.structured / self.criteria if self.criteria else 0.0

    def as_dict(self) -> dict:
        return {"trials": self.trials, "criteria": self.criteria, "structured": self.structured,
                "structured_share": round(self.share, 4),
                "criteria_by_kind": dict(self.by_kind.most_common()),
                "facts_by_kind": dict(self.facts_by_kind.most_common())}


def coverage(parsed: Iterable[list[Criterion]]) -> Coverage:
    cov = Coverage()
    for criteria in parsed:
        cov.trials += 1
        for c in criteria:
            cov.criteria += 1
            cov.by_kind[c.kind] += 1
            cov.structured += bool(c.facts)
            cov.facts_by_kind.update(f.kind for f in c.facts)
    return cov
