"""Eligibility criteria: turning a trial's free-text criteria into structured items for matching."""

from .split import CriterionItem, split_criteria

__all__ = ["CriterionItem", "split_criteria"]
