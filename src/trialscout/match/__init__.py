"""Matching: evaluate a trial's parsed criteria against a patient and give a verdict.

``facts`` checks one criterion fact (three-valued, with evidence), ``evaluate`` combines facts into
criterion states and a trial verdict, ``rank`` finds candidate trials in the store and orders the
results, ``model`` is what comes back.
"""

from .evaluate import evaluate_criteria, match_criteria
from .model import CriterionResult, TrialMatch
from .rank import Candidates, match_patient, patient_query

__all__ = ["Candidates", "CriterionResult", "TrialMatch", "evaluate_criteria", "match_criteria", "match_patient",
           "patient_query"]
