"""Criteria and trials against one patient: a state per criterion, a verdict per trial.

A criterion "holds" when its facts do (combined by its logic, three-valued) and enough of its
children do. For an inclusion criterion holding means "met"; for an exclusion it means the patient is
excluded ("met" too: the exclusion applies). The trial is ineligible if an inclusion is not met or an
exclusion is met, eligible only if every inclusion is met and every exclusion settled as not met, and
possibly eligible otherwise.
"""

from __future__ import annotations

import datetime as dt

from trialscout.criteria import Criterion, Fact, alternatives, describe_fact
from trialscout.criteria.lexicon import lexicon
from trialscout.patients import Patient

from .facts import NA, Finding, PatientIndex, check_fact
from .model import CriterionResult, State, TrialMatch

__all__ = ["evaluate_criteria", "match_criteria"]

# More meaningful words than this outside a criterion's facts, and the facts don't decide it.
_MAX_LEFTOVER = 4


def _combine(values: list, logic: str) -> bool | None | str:
    """Three-valued AND / OR that skips not-applicable parts."""
    vals = [v for v in values if v != NA]
    if not vals:
        return NA if values else None
    if logic == "any":
        return True if True in vals else (False if all(v is False for v in vals) else None)
    return False if False in vals else (True if all(v is True for v in vals) else None)


def _facts_hold(c: Criterion, findings: list[tuple], logic: str) -> bool | None | str:
    """The facts combined by the criterion's logic. In an either/or criterion the population it speaks of
    is not one of the alternatives: "men or women aged 18 or older with type 2 diabetes or prediabetes"
    needs the age *and* one of the conditions, "males with prostate cancer or hypertension" excludes
    no man without either. For exclusions only the sex binds so: "over 65 or with diabetes" names two
    ways to be excluded, and reading it as one would let patients through. What comes before "at least
    one of the following" is required too."""
    values = [found.value for _, found in findings]
    if logic != "any":
        return _combine(values, logic)
    binding = ("sex", "age") if c.section == "inclusion" else ("sex",)
    _, following = alternatives(c.text)
    required, rest = [], []
    for f, found in findings:
        binds = f.kind in binding or (following is not None and f.end <= following)
        (required if binds else rest).append(found.value)
    if not required or not rest:
        return _combine(values, logic)
    return _combine([_combine(required, "all"), _combine(rest, "any")], "all")


def _at_least(n: int | None, values: list) -> bool | None | str:
    """At least ``n`` of ``values`` hold (None: all of them), three-valued."""
    vals = [v for v in values if v != NA]
    if not vals:
        return NA
    need = min(n or len(vals), len(vals))
    yes, maybe = sum(v is True for v in vals), sum(v is None for v in vals)
    return True if yes >= need else (False if yes + maybe < need else None)


def _about_women(c: Criterion) -> bool:
    kinds = {f.kind for f in c.facts}
    return "contraception" in kinds and bool(
        kinds & {"pregnancy", "breastfeeding"} or any(f.kind == "sex" and f.value == "female" for f in c.facts))


_STATES: dict = {True: "met", False: "not_met", None: "unknown"}


def _state(holds: bool | None | str) -> State:
    return _STATES.get(holds, "not_applicable")


def _question(c: Criterion, findings: list[tuple]) -> str:
    unknown = [f for f, found in findings if found.value is None]
    if c.leftover > _MAX_LEFTOVER:
        unknown = []
    if unknown:
        return "; ".join(dict.fromkeys(_ask(f) for f in unknown))
    return f"Does this apply to you: {c.text}"


# Questions for qualifiers a yes/no about the bare concept can't settle ("Is the patient allergic to X?").
_ASK_QUALIFIED = {"allergy": "Is the patient allergic to {name}?",
                  "contraindication": "Is {name} contraindicated for the patient?",
                  "indication": "Has the patient taken {name}, and for what?",
                  "aftermath": "Has {name} left the patient with lasting effects?",
                  "planned": "Is {name} planned for the patient?",
                  "specific": "Does the patient have an {name} to what this criterion names?",
                  "other": "Besides the condition this trial is for, has the patient had {name}?"}


# Criteria stay in memory across patients (criteria.stored), and every check describes each of their
# facts: the text is made once per fact. The entry holds the fact itself, so its id can't be reused
# by another object while the entry exists. About the facts of the criteria cache's 20,000 trials.
_DESCRIBED_MAX = 300_000
_described: dict[int, tuple[Fact, str]] = {}


def _describe(f: Fact) -> str:
    kept = _described.get(id(f))
    if kept is not None and kept[0] is f:
        return kept[1]
    if len(_described) >= _DESCRIBED_MAX:
        _described.clear()
    text = _described[id(f)] = (f, describe_fact(f))
    return text[1]


def _ask(f) -> str:
    name = f.concept or f.value or f.text
    if f.qualifier in _ASK_QUALIFIED:
        return _ASK_QUALIFIED[f.qualifier].format(name=name)
    if f.qualifier:
        return f"Has the patient had {name}, and is it {f.qualifier}?"
    if f.kind in ("lab", "score"):
        return f"What is the latest {name}?"
    if f.kind in ("drug", "drug_class"):
        when = f" in the last {f.window.days} days" if f.window and f.window.relation == "within" else ""
        return f"Has the patient taken {name}{when}, and at what dose?"
    if f.kind in ("age", "sex"):
        return f"What is the patient's {f.kind}?"
    if f.kind in ("pregnancy", "breastfeeding", "contraception", "consent", "language"):
        return f"{f.kind.capitalize()}: {f.text}?"
    when = f" (within {f.window.days} days)" if f.window and f.window.relation == "within" else ""
    return f"Has the patient had {name}{when}?"


def evaluate_criteria(criteria: list[Criterion], patient: Patient, as_of: dt.date, *,
                      closed_world: bool = False, index: PatientIndex | None = None,
                      studied: frozenset[str] = frozenset()) -> list[CriterionResult]:
    """A result per criterion (headings and notes left out), children after their parent.
    ``closed_world``: what the record doesn't mention is taken as absent (see match.benchmark): for an
    exclusion it does not apply; for an inclusion it settles only a required absence ("no prior X").
    ``index``: the patient's PatientIndex for ``as_of``, to reuse across trials (match.rank does).
    ``studied``: the conditions the trial is about; an exclusion's broad condition doesn't mean them."""
    if index is None or index.patient is not patient or index.as_of != as_of:
        index = PatientIndex(patient, as_of)
    holds: dict[int, bool | None | str] = {}
    results: dict[int, CriterionResult] = {}
    children: dict[int, list[int]] = {}
    for k in criteria:
        if k.parent is not None:
            children.setdefault(k.parent, []).append(k.id)
    for c in reversed(criteria):  # children come after parents, so they are settled first
        if c.role != "criterion":
            continue
        kids = [holds[k] for k in children.get(c.id, ()) if k in holds]
        holds[c.id], results[c.id] = _evaluate_one(c, kids, index, closed_world, studied)
    return [results[c.id] for c in criteria if c.id in results]


def _evaluate_one(c: Criterion, kids: list, index: PatientIndex, closed_world: bool,
                  studied: frozenset[str]) -> tuple[bool | None | str, CriterionResult]:
    patient, as_of = index.patient, index.as_of
    closed: bool | str = closed_world if c.section == "exclusion" else ("absence" if closed_world else False)
    # A lab limit stands for a condition the summary would name ("renal impairment (CrCl < 30)"); a bare
    # limit ("WBC > 15000") needs the value itself.
    named = False
    for f in c.facts:
        if f.kind == "condition":
            named = True
            break
    findings = [(f, check_fact(f, patient, as_of, closed, close_values=named, index=index)) for f in c.facts]
    if studied and c.section == "exclusion":
        findings = [(f, _not_the_studied(f, found, studied)) for f, found in findings]
    if patient.sex == "male" and _about_women(c):
        # "women of childbearing age not using contraception", "female patients have adequate
        # birth control": the contraception asked for is that of women
        findings = [(f, Finding(NA, "concerns women of childbearing potential")) for f, _ in findings]
    if len(findings) == 1:  # most criteria: one fact, which holds as much as the criterion's facts do
        own = findings[0][1].value
    else:
        own = _facts_hold(c, findings, "all" if c.logic == "if" else c.logic) if findings else None
    if kids:
        kid = _at_least(c.min_count, kids)
        if c.logic == "if":
            # The group's rule binds only its members: outside it nothing is asked; when membership is
            # unknown, sub-items that hold settle it anyway.
            own = NA if own is False else (kid if own is True or kid is True else None)
        else:
            own = kid if not findings else _combine([own, kid], "all")
    partial = findings and own in (True, False) and c.leftover > _MAX_LEFTOVER
    if partial and closed is True and own is False:
        partial = False  # closed world: a concept the criterion needs is absent, whatever the rest says
    if partial and own is True and c.logic == "any" and alternatives(c.text)[0] and any(
            found.value is True and found.evidence and not f.negated for f, found in findings):
        partial = False  # one of the alternatives it lists is in the record; the words not read are more of them
    if partial:
        own = None  # the facts read only part of the criterion: don't let them decide it
    evidence = [p for _, found in findings for p in found.evidence]
    if len(evidence) > 1:
        evidence = list({id(p): p for p in evidence}.values())
    reason = "; ".join([f"{_describe(f)} → {found.reason}" for f, found in findings]) or (
        "not parsed into checkable facts" if not kids else "from its sub-criteria")
    if partial:
        reason = f"only partly understood ({reason})"
    state = _state(own)
    return own, CriterionResult(
        id=c.id, parent=c.parent, section=c.section, text=c.text, state=state, reason=reason, evidence=evidence,
        question=_question(c, findings) if state == "unknown" else None)


def _not_the_studied(f: Fact, found: Finding, studied: frozenset[str]) -> Finding:
    """An exclusion's broad condition ("concurrent malignancy", "active infection") found only as the
    condition the trial studies means another one: whether there is another, the record doesn't say.
    A criterion naming the studied condition itself, or a qualified form of it ("uncontrolled
    asthma"), still excludes."""
    if f.kind != "condition" or found.value is not True or f.negated or f.qualifier or not found.evidence:
        return found
    lex = lexicon()
    own = [s for s in studied if s != f.concept and lex.covers(f.concept or "", s)]
    if own and all(p.concept and any(lex.covers(s, p.concept) for s in own) for p in found.evidence):
        return Finding(None, f"{f.concept}: only {found.evidence[0].concept}, which this trial studies")
    return found


def match_criteria(trial_id: str, criteria: list[Criterion], patient: Patient, as_of: dt.date,
                   title: str | None = None, *, score: float = 0.0, index: PatientIndex | None = None,
                   studied: frozenset[str] = frozenset()) -> TrialMatch:
    """The trial's verdict for the patient, with a result per criterion. ``score``: its relevance, for
    ranking (match.rank); ``index``: as for evaluate_criteria; ``studied``: the lexicon conditions the
    trial is about (criteria.studied_conditions)."""
    return verdict_of(trial_id, title, evaluate_criteria(criteria, patient, as_of, index=index, studied=studied),
                      score=score)


def top_level(results: list[CriterionResult]) -> list[CriterionResult]:
    """Results under no other criterion. Items under a heading ("Cardiovascular:") stand on their own:
    headings ask nothing and are not among the results."""
    ids = {r.id for r in results}
    return [r for r in results if r.parent is None or r.parent not in ids]


def verdict_of(trial_id: str, title: str | None, results: list[CriterionResult], *,
               score: float = 0.0) -> TrialMatch:
    """The trial verdict from its criterion states (also used after an LLM judge changed some)."""
    top = top_level(results)
    deciding = [r.id for r in top if (r.section == "inclusion" and r.state == "not_met")
                or (r.section == "exclusion" and r.state == "met")]
    # Criteria under no heading ("unknown" section) can't disqualify, but they still need an answer.
    unknown = [r for r in top if r.state == "unknown"
               or (r.section == "unknown" and r.state in ("met", "not_met"))]
    verdict = "ineligible" if deciding else ("possibly_eligible" if unknown or not top else "eligible")
    questions = list(dict.fromkeys(r.question for r in unknown if r.question))
    if not top:
        questions = ["The registry record lists no eligibility criteria: ask the study team who can join."]
    return TrialMatch(trial=trial_id, title=title, verdict=verdict, deciding=deciding,
                      unknowns=len(unknown) if top else len(questions),
                      questions=questions, criteria=results, score=score)
