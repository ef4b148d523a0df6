"""Matching: evaluate a trial's parsed criteria against a patient and give a verdict.

``facts`` checks one criterion fact (three-valued, with evidence), ``evaluate`` combines facts into
criterion states and a trial verdict, ``rank`` finds candidate trials in the store and orders the
results, ``model`` is what comes back. ``judge`` is the optional LLM criterion judge (off unless
configured; see docs/llm-judge.md).
"""

from .evaluate import evaluate_criteria, match_criteria
from .judge import JudgeConfig, LLMJudge, PatientText, judge_matches
from .model import CriterionResult, TrialMatch
from .rank import Candidates, match_patient, patient_query

__all__ = ["Candidates", "CriterionResult", "JudgeConfig", "LLMJudge", "PatientText", "TrialMatch",
           "evaluate_criteria", "judge_matches", "match_criteria", "match_patient", "patient_query"]
