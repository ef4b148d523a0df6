"""What matching returns: a state per criterion with its evidence, and a verdict per trial."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialscout.patients import PatientFact

State = Literal["met", "not_met", "unknown", "not_applicable"]
Verdict = Literal["eligible", "possibly_eligible", "ineligible"]


class CriterionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    parent: int | None = None
    section: Literal["inclusion", "exclusion", "unknown"]
    text: str
    state: State
    reason: str  # one line a person can read: "platelets 90 x10^9/L (Observation/obs-3) is <= 100"
    evidence: list[PatientFact] = Field(default_factory=list)
    question: str | None = None  # for unknowns: what to ask to settle it
    # Set only by the optional LLM judge (match.judge); the rule engine leaves the defaults.
    judged_by: Literal["rules", "llm"] = "rules"  # whose label `state` is
    judge_note: str | None = None  # why the judge's label was not used, or was left open
    evidence_sentences: list[int] = Field(default_factory=list)  # note sentence / record line numbers it cited


class TrialMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trial: str
    title: str | None = None
    verdict: Verdict
    deciding: list[int] = Field(default_factory=list)  # criterion ids that make it ineligible
    unknowns: int = 0
    questions: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)
    score: float = 0.0  # retrieval relevance, for ranking within a verdict
