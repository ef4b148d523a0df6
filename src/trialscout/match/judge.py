"""Optional LLM criterion judge: a language model server reads the patient record and labels a criterion.

Never required and never called unless configured (``JudgeConfig.from_env`` returns None when
``TRIALSCOUT_LLM_URL`` is unset), so the default path stays offline and deterministic. The judge POSTs
one chat request per criterion to an OpenAI-compatible ``{url}/chat/completions`` and asks for JSON:
``{"label": "met" | "not_met" | "unknown" | "not_applicable", "evidence": [line numbers], "reason": "..."}``.

Whatever goes wrong (timeout, connection or HTTP error, an answer that is not that JSON, a label outside
the four, evidence lines the record doesn't have), the rule engine's result stands and ``judge_note``
says why. A valid answer is taken with one safety rule, since a wrong "eligible" is worse than an
"unknown": the model may disqualify (inclusion not met, exclusion met) or leave a criterion open, but a
label that lets the patient through (inclusion met, exclusion not met, not applicable) becomes
"unknown" when it contradicts a disqualifying rule result or cites no line of the record (silence on an
exclusion in the benchmark's closed-world reading excepted). See docs/llm-judge.md.

Privacy: the record is sent to the configured server and nowhere else; nothing here logs it, and
failure notes name only the kind of failure (never the server's answer, which may quote the record).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trialscout.patients import Patient, PatientFact
from trialscout.patients.note import MAX_CHARS, split_sentences

from .evaluate import top_level, verdict_of
from .model import CriterionResult, State, TrialMatch
from .rank import rank_key

__all__ = ["ENV_HELP", "JudgeAnswer", "JudgeConfig", "JudgeConfigError", "LLMJudge", "PatientText",
           "judge_matches"]

ENV_URL, ENV_MODEL, ENV_KEY, ENV_TIMEOUT = ("TRIALSCOUT_LLM_URL", "TRIALSCOUT_LLM_MODEL", "TRIALSCOUT_LLM_KEY",
                                            "TRIALSCOUT_LLM_TIMEOUT")
ENV_HELP = (f"--judge needs a language model server: set {ENV_URL} (e.g. http://localhost:8000/v1) and "
            f"{ENV_MODEL}, plus {ENV_KEY} if the server wants a key")
LABELS: tuple[State, ...] = ("met", "not_met", "unknown", "not_applicable")
_DISQUALIFYING = {"inclusion": "not_met", "exclusion": "met"}
_MAX_REASON = 300
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)


class JudgeConfigError(ValueError):
    """The judge's settings can't be used; the message names the setting."""


@dataclass(frozen=True)
class JudgeConfig:
    url: str  # base URL of an OpenAI-compatible API, e.g. http://localhost:8000/v1
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0  # seconds per request
    max_retries: int = 1  # extra tries after a timeout, connection error or HTTP 429/5xx
    max_record_chars: int = 24_000  # record lines sent per request; the rest are left out
    max_failures: int = 3  # transport failures in a row before the judge stops calling for this run

    def __post_init__(self) -> None:
        url = self.url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise JudgeConfigError(f"{ENV_URL} must be an http(s) URL like http://localhost:8000/v1")
        if url.endswith("/chat/completions"):
            url = url[:-len("/chat/completions")]
        object.__setattr__(self, "url", url)
        if not self.model.strip():
            raise JudgeConfigError(f"{ENV_MODEL} must name the model the server serves")
        if not self.timeout > 0:
            raise JudgeConfigError(f"{ENV_TIMEOUT} must be a number of seconds above 0")
        if self.max_retries < 0 or self.max_failures < 1:
            raise JudgeConfigError("max_retries must be >= 0 and max_failures >= 1")

    @property
    def host(self) -> str:
        """Where records go, for messages (no path, no key)."""
        return urlsplit(self.url).netloc

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JudgeConfig | None:
        """The judge configured in the environment, or None when ``TRIALSCOUT_LLM_URL`` is unset."""
        env = os.environ if env is None else env
        url = env.get(ENV_URL, "").strip()
        if not url:
            return None
        model = env.get(ENV_MODEL, "").strip()
        if not model:
            raise JudgeConfigError(f"{ENV_URL} is set but {ENV_MODEL} is not: set it to the model the server serves")
        raw = env.get(ENV_TIMEOUT, "").strip()
        try:
            timeout = float(raw) if raw else 30.0
        except ValueError:
            raise JudgeConfigError(f"{ENV_TIMEOUT} must be a number of seconds, got {raw!r}") from None
        return cls(url=url, model=model, api_key=env.get(ENV_KEY, "").strip() or None, timeout=timeout)


@dataclass(frozen=True)
class PatientText:
    """The patient record as numbered lines for the judge, and the patient facts each line backs."""

    lines: tuple[tuple[int, str], ...]
    facts: Mapping[int, tuple[PatientFact, ...]] = field(default_factory=dict)

    @classmethod
    def from_note(cls, text: str, patient: Patient | None = None) -> PatientText:
        """A note's sentences with the note's own numbers (TrialGPT "0. ... 1. ...") or numbered from 1,
        split as the note reader splits them, so the facts it read (``sentence N``) line up."""
        merged: dict[int, str] = {}
        for label, _, sentence in split_sentences(text[:MAX_CHARS]):
            n = int(label)
            merged[n] = f"{merged[n]}{sentence}" if n in merged else sentence  # long sentences come in pieces
        lines = tuple((n, " ".join(s.split())) for n, s in merged.items() if s.strip())
        facts: dict[int, list[PatientFact]] = {}
        for f in patient.facts if patient else ():
            ref = f.provenance.ref or ""
            if f.provenance.source == "note" and ref.startswith("sentence ") and ref[9:].isdigit():
                facts.setdefault(int(ref[9:]), []).append(f)
        return cls(lines, {n: tuple(fs) for n, fs in facts.items()})

    @classmethod
    def from_patient(cls, patient: Patient) -> PatientText:
        """A structured patient (FHIR, profile) as one line per fact, demographics first (line 0)."""
        demo = []
        if patient.birth_date:
            demo.append(f"born {patient.birth_date.isoformat()}")
        elif patient.age_years is not None:
            demo.append(f"age {patient.age_years:g} years")
        if patient.sex:
            demo.append(f"sex {patient.sex}")
        lines = [(0, "Demographics: " + (", ".join(demo) if demo else "not stated"))]
        facts: dict[int, tuple[PatientFact, ...]] = {}
        for n, f in enumerate(patient.facts, 1):
            lines.append((n, _describe(f)))
            facts[n] = (f,)
        return cls(tuple(lines), facts)

    def shown(self, max_chars: int) -> tuple[tuple[int, str], ...]:
        """The lines that fit in ``max_chars`` (always at least the first)."""
        out, used = [], 0
        for n, s in self.lines:
            used += len(s) + 8
            if out and used > max_chars:
                break
            out.append((n, s))
        return tuple(out)


def _describe(f: PatientFact) -> str:
    name = f.text if not f.concept or f.concept.lower() == f.text.lower() else f"{f.text} ({f.concept})"
    parts = [f"{f.kind}: {name}"]
    if f.value is not None:
        parts.append(f"{f.value:g}{' ' + f.unit if f.unit else ''}{f' of {f.scale_max:g}' if f.scale_max else ''}")
    if f.frequency:
        parts.append(f.frequency)
    flags = [w for w, on in (("stated absent", f.negated), ("in the past", f.historical),
                             ("family member", f.family)) if on]
    if f.active is not None and not f.negated:
        flags.append("current" if f.active else "no longer current")
    if f.start and f.kind in ("lab", "score", "procedure", "vaccine") and not f.end:
        flags.append(f"on {f.start.isoformat()}")  # a measurement or an event: its date
    elif f.start:
        flags.append(f"from {f.start.isoformat()}")
    if f.end:
        flags.append(f"until {f.end.isoformat()}")
    return ", ".join(parts) + (f" [{'; '.join(flags)}]" if flags else "")


def _norm_label(label: str) -> str:
    """"Not met", "not-met", "NOT_MET" -> "not_met"."""
    return "_".join(label.strip().lower().replace("-", " ").split())


class JudgeAnswer(BaseModel):
    """What the model must answer, checked before anything of it is used."""

    model_config = ConfigDict(extra="ignore")

    label: State
    evidence: list[int] = Field(default_factory=list)
    reason: str = ""

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, v):
        return _norm_label(v) if isinstance(v, str) else v

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence(cls, v):
        if v is None:
            return []
        if not isinstance(v, list) or any(isinstance(x, bool) for x in v):
            raise ValueError("evidence must be a list of line numbers")
        return v

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, v):
        return "" if v is None else v


class _Failure(Exception):
    def __init__(self, kind: str, note: str, transport: bool = False):
        super().__init__(note)
        self.kind, self.note, self.transport = kind, note, transport


_SYSTEM = "\n".join((
    "You check one clinical-trial eligibility criterion against one patient's record.",
    "Answer with one JSON object and nothing else:",
    '{"label": "met" | "not_met" | "unknown" | "not_applicable", "evidence": [record line numbers], '
    '"reason": "one short sentence"}',
    "- met: the patient satisfies the criterion as written. For an EXCLUSION criterion, met means the exclusion "
    "applies and the patient is excluded.",
    "- not_met: the record shows the patient does not satisfy it (for an exclusion: the exclusion does not apply).",
    "- unknown: the record does not say enough to decide.",
    "- not_applicable: the criterion does not concern this patient (for example it is about women who could "
    "become pregnant and the patient is a man).",
    'In "evidence" list the numbers of the record lines that support the label, [] if none. '
    "Use only what the record says.",
    "",
))
_OPEN_WORLD = "If the record does not mention what the criterion asks about, answer unknown."
_CLOSED_WORLD = ("For an exclusion criterion, a condition, treatment or event the record does not mention counts as "
                 "absent: answer not_met. For an inclusion criterion the record does not settle, answer unknown.")


class LLMJudge:
    """Labels criteria with a language model, falling back to the rule engine's result (see module doc).

    ``counts`` tallies what happened per criterion: ``llm`` (label used), ``left_open`` (label turned into
    unknown by the safety rule) and ``fallback:<kind>`` (rules kept)."""

    def __init__(self, config: JudgeConfig, *, client: httpx.Client | None = None):
        self.config = config
        self._headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._owns_client = client is None  # a client passed in is shared: the caller closes it
        self._client = client or httpx.Client()
        self._json_mode = True
        self._failures = 0
        self.requests = 0
        self.counts: Counter[str] = Counter()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> LLMJudge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def disabled(self) -> bool:
        return self._failures >= self.config.max_failures

    def judge(self, rule: CriterionResult, record: PatientText, *, closed_world: bool = False,
              subcriteria: Sequence[str] = ()) -> CriterionResult:
        """``rule`` (the rule engine's result for the criterion) re-decided by the model, or kept."""
        if self.disabled:
            return self._fallback(rule, "off", f"stopped after {self.config.max_failures} failed requests in a row")
        shown = record.shown(self.config.max_record_chars)
        try:
            content = self._ask(self._messages(rule, shown, closed_world, subcriteria))
            self._failures = 0  # the server answered; a bad answer is not a dead server
            answer = self._parse(content, {n for n, _ in shown})
        except _Failure as failure:
            if failure.transport:
                self._failures += 1
            return self._fallback(rule, failure.kind, failure.note)
        return self._apply(rule, answer, record, closed_world)

    # -- the request --------------------------------------------------------------------------------

    def _messages(self, rule: CriterionResult, shown, closed_world: bool, subcriteria: Sequence[str]) -> list[dict]:
        section = rule.section if rule.section != "unknown" else "listed without an inclusion/exclusion heading"
        parts = [f"Criterion ({section}): {rule.text}"]
        if subcriteria:
            parts.append("Its sub-criteria:\n" + "\n".join(f"- {s}" for s in subcriteria))
        parts.append("Patient record (numbered lines):\n" + "\n".join(f"{n}. {s}" for n, s in shown))
        if rule.state != "unknown" or rule.evidence:
            parts.append(f"An automatic rule-based reader (often wrong) said: {rule.state} ({rule.reason[:200]})")
        system = _SYSTEM + (_CLOSED_WORLD if closed_world else _OPEN_WORLD)
        return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]

    def _ask(self, messages: list[dict]) -> str:
        cfg = self.config
        body = {"model": cfg.model, "messages": messages, "temperature": 0, "max_tokens": 400}
        attempt, last = 0, None
        while attempt <= cfg.max_retries:
            if attempt:
                time.sleep(min(0.25 * attempt, 2.0))
            attempt += 1
            payload = {**body, "response_format": {"type": "json_object"}} if self._json_mode else body
            self.requests += 1
            try:
                resp = self._client.post(f"{cfg.url}/chat/completions", json=payload, headers=self._headers,
                                         timeout=cfg.timeout)
            except httpx.TimeoutException:
                last = _Failure("timeout", f"no answer within {cfg.timeout:g}s", transport=True)
                continue
            except httpx.HTTPError as exc:  # connection refused, DNS, TLS, protocol errors
                last = _Failure("connection", f"could not reach {cfg.host} ({type(exc).__name__})", transport=True)
                continue
            if resp.status_code == 400 and self._json_mode:
                self._json_mode = False  # some servers refuse response_format; the prompt still asks for JSON
                attempt -= 1
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                last = _Failure("http_error", f"server answered HTTP {resp.status_code}", transport=True)
                continue
            if resp.status_code != 200:
                raise _Failure("http_error", f"server answered HTTP {resp.status_code}", transport=True)
            try:
                data = resp.json()
                content = data["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                raise _Failure("malformed", "malformed answer (not an OpenAI-style chat completion)") from None
            if not isinstance(content, str):
                raise _Failure("malformed", "malformed answer (no message text)")
            return content
        assert last is not None
        if cfg.max_retries:
            last.note += f", {cfg.max_retries + 1} tries"
        raise last

    @staticmethod
    def _parse(content: str, line_ids: set[int]) -> JudgeAnswer:
        text = content.strip()
        if m := _FENCE.match(text):
            text = m.group(1)
        try:
            raw = json.loads(text)
        except ValueError:
            raise _Failure("malformed", "malformed answer (not JSON)") from None
        if not isinstance(raw, dict):
            raise _Failure("malformed", "malformed answer (not a JSON object)")
        label = raw.get("label")
        if label is None:
            raise _Failure("malformed", "malformed answer (no label)")
        if not isinstance(label, str) or _norm_label(label) not in LABELS:
            shown = label[:30] if isinstance(label, str) else type(label).__name__
            raise _Failure("bad_label", f"label {shown!r} is not one of {', '.join(LABELS)}")
        try:
            answer = JudgeAnswer.model_validate(raw)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "answer"
            raise _Failure("malformed", f"malformed answer ({where} is invalid)") from None
        bad = sorted(set(answer.evidence) - line_ids)
        if bad:
            raise _Failure("bad_evidence", f"evidence line {bad[0]} is not in the record "
                                           f"({min(line_ids)}-{max(line_ids)})")
        return answer

    # -- the result ---------------------------------------------------------------------------------

    def _fallback(self, rule: CriterionResult, kind: str, note: str) -> CriterionResult:
        self.counts[f"fallback:{kind}"] += 1
        return rule.model_copy(update={"judged_by": "rules", "judge_note": f"LLM judge not used: {note}"})

    def _apply(self, rule: CriterionResult, answer: JudgeAnswer, record: PatientText,
               closed_world: bool) -> CriterionResult:
        label, section = answer.label, rule.section
        cited = sorted(set(answer.evidence))
        lets_through = label != "unknown" and label != _DISQUALIFYING.get(section)
        note = None
        if lets_through and rule.state == _DISQUALIFYING.get(section):
            note = f"the model said {label} but the rules found {rule.state}: left open"
        elif lets_through and not cited and not (closed_world and section == "exclusion" and label == "not_met"):
            note = f"the model said {label} without citing the record: left open"
        state: State = "unknown" if note else label
        self.counts["left_open" if note else "llm"] += 1
        reason = " ".join(answer.reason.split())[:_MAX_REASON] or "no reason given"
        if cited:
            reason += f" (line{'s' if len(cited) > 1 else ''} {', '.join(map(str, cited))})"
        evidence = list({id(f): f for n in cited for f in record.facts.get(n, ())}.values())
        question = None
        if state == "unknown":
            question = rule.question or f"Does this apply to you: {rule.text}"
        return rule.model_copy(update={
            "state": state, "reason": f"model: {reason}", "evidence": evidence, "question": question,
            "judged_by": "llm", "judge_note": note, "evidence_sentences": cited})


def _rejudged(m: TrialMatch, judge: LLMJudge, record: PatientText) -> TrialMatch:
    results = list(m.criteria)
    top = {r.id for r in top_level(results)}
    if not top:
        return m
    for k, r in enumerate(results):
        if r.id in top:
            kids = [c.text for c in results if c.parent == r.id]
            results[k] = judge.judge(r, record, subcriteria=kids)
    return verdict_of(m.trial, m.title, results).model_copy(update={"score": m.score})


def judge_matches(matches: list[TrialMatch], judge: LLMJudge, record: PatientText, top: int) -> list[TrialMatch]:
    """The first ``top`` matches with their top-level criteria judged and re-ranked among themselves; the
    rest as they were (judging every candidate would cost a request per criterion of each)."""
    head = [_rejudged(m, judge, record) for m in matches[:top]]
    head.sort(key=rank_key)
    return head + matches[top:]
