"""Eligibility criteria: split, parse and normalize a trial's free-text criteria into typed facts.

Pipeline: ``split`` (items) -> ``nlp`` (lexicon concepts + ConText) / ``demographics`` / ``thresholds``
(numbers, units) / ``temporal`` (windows) -> ``parse`` (facts per criterion) -> ``stored`` (kept in the
store beside the trial).
"""

from .describe import describe_fact, describe_threshold, describe_window
from .model import Criterion, Fact, Threshold, Window
from .parse import PARSER_VERSION, parse_criteria
from .readings import alternatives
from .split import CriterionItem, split_criteria
from .stored import criteria_for, parse_pending, pending_count, preload_criteria, studied_conditions

__all__ = [
    "PARSER_VERSION", "alternatives", "Criterion", "CriterionItem", "Fact", "Threshold", "Window", "criteria_for",
    "describe_fact", "describe_threshold", "describe_window", "parse_criteria",
    "parse_pending", "pending_count", "preload_criteria", "split_criteria", "studied_conditions",
]
