"""Matching: evaluate a trial's parsed criteria against a patient and give a verdict.

``facts`` checks one criterion fact (three-valued, with evidence), ``evaluate`` combines facts into
criterion states and a trial verdict, ``model`` is what comes back.
"""

from .evaluate import evaluate_criteria, match_criteria
from .model import CriterionResult, TrialMatch

__all__ = ["CriterionResult", "TrialMatch", "evaluate_criteria", "match_criteria"]
