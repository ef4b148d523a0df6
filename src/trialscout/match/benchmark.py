"""Criterion-level accuracy on expert-labelled patient/criterion pairs (TrialGPT's dev.json format).

Each pair is a patient note (numbered sentences), one criterion and an expert label. The note is read
with the patient note reader, the criterion with the criteria engine, and the matcher's state is
mapped to the annotators' labels:

    inclusion: met -> included, not_met -> not included, unknown -> not enough information,
               not_applicable -> not applicable
    exclusion: met -> excluded, not_met -> not excluded, unknown -> not enough information,
               not_applicable -> not applicable

``closed_world``: the annotators read a note's silence about an exclusion as "not excluded" (a
summary that doesn't mention cancer means no cancer). With it, a condition, drug or procedure the
note doesn't mention counts as absent for exclusion criteria, and a lab or score limit counts as
unremarkable when it defines a condition the criterion names ("renal impairment (CrCl < 30)"); a bare
limit ("WBC > 15000") stays unknown. For inclusions, silence settles only a required absence ("no prior
radiotherapy" is met), never a required presence. An exclusion item that states nothing ("None") excludes
no one. It is the benchmark's reading; the product's default (``trialscout match``) keeps silence as
"unknown".

``judge``: an optional LLM judge (match.judge) re-decides each pair from the note's numbered sentences,
falling back to the rule engine's state; without one nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from trialscout.criteria import CriterionItem
from trialscout.criteria.parse import parse_item
from trialscout.patients import Patient, patient_from_note

from .evaluate import evaluate_criteria
from .judge import LLMJudge, PatientText
from .model import CriterionResult

__all__ = ["BenchmarkError", "CriterionScores", "LABELS", "score_pairs"]

LABELS = {
    "inclusion": {"met": "included", "not_met": "not included", "unknown": "not enough information",
                  "not_applicable": "not applicable"},
    "exclusion": {"met": "excluded", "not_met": "not excluded", "unknown": "not enough information",
                  "not_applicable": "not applicable"},
}
DISQUALIFYING = ("not included", "excluded")
_NEEDED = ("patient_id", "note", "criterion_type", "criterion_text", "expert_eligibility")


class BenchmarkError(ValueError):
    """A pairs file that can't be scored; the message names the file and the pair."""


@dataclass
class CriterionScores:
    pairs: int = 0
    correct: int = 0
    by_type: dict[str, list[int]] = field(default_factory=dict)  # type -> [correct, total]
    confusion: Counter = field(default_factory=Counter)  # (expert, ours) -> n
    judge: Counter | None = None  # with an LLM judge: outcome -> n (llm, left_open, fallback:<kind>)

    def as_dict(self) -> dict:
        disq = {lab: [sum(n for (e, o), n in self.confusion.items() if e == lab and o == lab),
                      sum(n for (e, _), n in self.confusion.items() if e == lab)] for lab in DISQUALIFYING}
        hit, total = sum(v[0] for v in disq.values()), sum(v[1] for v in disq.values())
        return {
            "pairs": self.pairs, "accuracy": round(self.correct / self.pairs, 4) if self.pairs else 0.0,
            "accuracy_by_type": {t: round(c / n, 4) for t, (c, n) in sorted(self.by_type.items())},
            "pairs_by_type": {t: n for t, (_, n) in sorted(self.by_type.items())},
            "disqualifying_recall": round(hit / total, 4) if total else None,
            "disqualifying_support": total,
            "confusion": [{"expert": e, "trialscout": o, "n": n} for (e, o), n in sorted(self.confusion.items())],
        } | ({"judge": dict(sorted(self.judge.items()))} if self.judge is not None else {})


def _load(path: Path) -> list[dict]:
    try:
        pairs = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(pairs, list) or not pairs:
        raise BenchmarkError(f"{path}: expected a JSON list of patient/criterion pairs")
    for i, pair in enumerate(pairs):
        missing = [k for k in _NEEDED if not isinstance(pair, dict) or k not in pair]
        if missing:
            raise BenchmarkError(f"{path}: pair {i}: missing {', '.join(missing)}")
        if pair["criterion_type"] not in LABELS:
            raise BenchmarkError(f"{path}: pair {i}: criterion_type must be inclusion or exclusion, "
                                 f"got {pair['criterion_type']!r}")
    return pairs


def score_pairs(path: Path, *, as_of: dt.date, closed_world: bool = True,
                judge: LLMJudge | None = None) -> CriterionScores:
    pairs = _load(path)
    patients: dict[str, Patient] = {}
    records: dict[str, PatientText] = {}
    scores = CriterionScores(judge=Counter() if judge is not None else None)
    for pair in pairs:
        patient = patients.get(pair["patient_id"])
        if patient is None:
            patient = patients[pair["patient_id"]] = patient_from_note(pair["note"], pair["patient_id"], as_of)
        kind, text = pair["criterion_type"], pair["criterion_text"] or ""
        criterion = parse_item(CriterionItem(kind=kind, text=text, start=0, end=len(text)))
        closed = closed_world and kind == "exclusion"
        results = evaluate_criteria([criterion], patient, as_of, closed_world=closed_world)
        if judge is not None:
            if pair["patient_id"] not in records:
                records[pair["patient_id"]] = PatientText.from_note(pair["note"] or "", patient)
            rule = results[0] if results else CriterionResult(id=0, section=kind, text=text, state="unknown",
                                                              reason="not parsed into checkable facts")
            before = judge.counts.copy()
            results = [judge.judge(rule, records[pair["patient_id"]], closed_world=closed)]
            scores.judge.update(judge.counts - before)  # type: ignore[union-attr]
        # An exclusion item that states nothing ("None", "Not specified", blank) excludes no one.
        empty = kind == "exclusion" and (not text.strip() or criterion.role == "note")
        ours = LABELS[kind]["not_met" if empty else (results[0].state if results else "unknown")]
        expert = pair["expert_eligibility"]
        scores.pairs += 1
        scores.correct += ours == expert
        row = scores.by_type.setdefault(kind, [0, 0])
        row[0] += ours == expert
        row[1] += 1
        scores.confusion[(expert, ours)] += 1
    return scores
