"""Is one parsed criterion fact true of a patient? True, False, None (the record doesn't say) or NA.

Three-valued on purpose: a fact is only True or False when the patient data settles it. Absence of a
condition from a record is not evidence that the patient doesn't have it, so it gives None: a wrong
"eligible" is worse than an honest "unknown".
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from dataclasses import dataclass, field
from functools import cache

from trialscout.criteria import Fact, Threshold
from trialscout.criteria.lexicon import lexicon
from trialscout.criteria.units import UnitError, convert, normalize_unit
from trialscout.patients import Patient, PatientFact

__all__ = ["NA", "Finding", "PatientIndex", "check_fact"]

PAST_CHILDBEARING_AGE = 60  # conservative: pregnancies after 55 are rare but reported
NA = "na"  # the fact does not apply to this patient (a pregnancy criterion for a man)
# Kinds whose absence from a complete record means absence (closed-world reading only); for labs and
# scores, that the value is unremarkable (a summary would mention an abnormal one).
_CLOSABLE = {"condition", "drug", "drug_class", "procedure", "vaccine", "device", "lab", "score"}
_VALUES = {"lab", "score"}
# What a summary's silence can show absent for an inclusion's "no X": conditions and exposures, not
# lab values (an unmentioned value is unknown, not normal).
_ABSENT_KINDS = {"condition", "drug", "drug_class", "procedure", "vaccine", "device"}
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}
_PER_DAY = {"daily": 1, "once daily": 1, "qd": 1, "every day": 1, "per day": 1, "twice daily": 2, "bid": 2,
            "three times daily": 3, "tid": 3, "four times daily": 4, "qid": 4, "weekly": 1 / 7,
            "once weekly": 1 / 7, "every week": 1 / 7, "every other week": 1 / 14, "every 2 weeks": 1 / 14,
            "monthly": 1 / 30, "every 4 weeks": 1 / 28}


@dataclass(slots=True)  # one per fact checked: no __dict__ to allocate
class Finding:
    value: bool | None | str  # True, False, None (unknown) or NA
    reason: str
    evidence: list[PatientFact] = field(default_factory=list)


class PatientIndex:
    """One patient on one day, read once for checking many facts: the patient's age, facts by kind, and
    those about each concept asked. Build one per patient and match day and pass it along (match.rank
    does, for every candidate trial); don't keep it after the patient changes."""

    __slots__ = ("_kinds", "_relevant", "_unnamed", "age", "as_of", "patient")

    def __init__(self, patient: Patient, as_of: dt.date) -> None:
        self.patient, self.as_of = patient, as_of
        self.age = patient.age_on(as_of)
        self._kinds: dict[tuple[str, ...], list[PatientFact]] = {}
        self._relevant: dict[tuple, list[PatientFact]] = {}
        self._unnamed: dict[tuple[str, ...], bool] = {}

    def of_kind(self, *kinds: str) -> list[PatientFact]:
        """``Patient.of_kind``, read once per kinds; don't change the list."""
        found = self._kinds.get(kinds)
        if found is None:
            found = self._kinds[kinds] = self.patient.of_kind(*kinds)
        return found

    def unnamed(self, kinds: tuple[str, ...]) -> bool:
        """Whether some fact of these kinds has no lexicon concept (so it can match only on its words)."""
        found = self._unnamed.get(kinds)
        if found is None:
            found = self._unnamed[kinds] = any(not p.concept for p in self.of_kind(*kinds))
        return found


def check_fact(fact: Fact, patient: Patient, as_of: dt.date, closed_world: bool | str = False, *,
               close_values: bool = True, index: PatientIndex | None = None) -> Finding:
    """``closed_world``: True reads silence as "this fact does not bite" (exclusions); "absence" reads
    it only as absence, so it settles a required absence ("no history of X", "never received X") and
    leaves a required presence unknown (inclusions). ``close_values=False`` keeps an unmentioned lab or
    score unknown: a summary's silence says a condition is absent, not what a value would measure.
    ``index``: the patient's PatientIndex for ``as_of``, to reuse across calls."""
    if index is None or index.patient is not patient or index.as_of != as_of:
        index = PatientIndex(patient, as_of)
    return _check_fact(fact, index, closed_world, close_values)


def _check_fact(fact: Fact, ix: PatientIndex, closed_world: bool | str, close_values: bool) -> Finding:
    check = _allergic if fact.qualifier == "allergy" else _CHECKS.get(fact.kind, _unknown)
    found = check(fact, ix)
    if fact.negated and found.value in (True, False):
        found = Finding(not found.value, f"not: {found.reason}", found.evidence)
    if closed_world == "absence":
        if fact.negated and found.value is None and not found.evidence and fact.kind in _ABSENT_KINDS:
            found = Finding(True, f"{fact.concept or fact.text}: not mentioned, taken as absent")
        return found
    if closed_world and found.value is None and not found.evidence and fact.kind in _CLOSABLE and \
            (close_values or fact.kind not in _VALUES):
        # Silence settles the fact as not applying to the patient, negated wording or not ("cannot
        # use heparin" with no heparin in the record is not a reason to exclude).
        found = Finding(False, f"{fact.concept or fact.text}: not mentioned, taken as absent")
    return found


def _allergic(fact: Fact, ix: PatientIndex) -> Finding:
    """"Hypersensitivity to penicillins": the record's allergies decide, not whether the drug was taken."""
    facts = _relevant(fact, ix, ("allergy",))
    positive = [p for p in facts if not p.negated]
    if positive:
        return Finding(True, f"allergy to {fact.concept}: {positive[0].text}", positive)
    if facts:
        return Finding(False, f"allergy to {fact.concept}: stated absent", facts)
    return Finding(None, f"allergy to {fact.concept}: not in the record")


def _unknown(fact: Fact, ix: PatientIndex) -> Finding:
    return Finding(None, f"the record does not say ({fact.kind})")


def _compare(value: float, t: Threshold) -> bool:
    if t.op == "between":
        return t.value <= value <= (t.high if t.high is not None else t.value)
    if t.op == "in":
        return value in (t.values or ())
    return _OPS[t.op](value, t.value)


def _age(fact: Fact, ix: PatientIndex) -> Finding:
    age = ix.age
    if age is None:
        return Finding(None, "age not known")
    ok = all(_compare(age, t) for t in fact.thresholds if not t.alternative)
    return Finding(ok, f"age {age:g} {'meets' if ok else 'fails'} {fact.text!r}")


def _sex(fact: Fact, ix: PatientIndex) -> Finding:
    if fact.value == "any":
        return Finding(True, "open to any sex")
    patient = ix.patient
    if patient.sex is None:
        return Finding(None, "sex not known")
    return Finding(patient.sex == fact.value, f"sex is {patient.sex}")


def _female_only(kind: str):
    def check(fact: Fact, ix: PatientIndex) -> Finding:
        patient = ix.patient
        if patient.sex == "male":
            return Finding(NA, f"{kind} does not apply to a male patient")
        facts = [f for f in ix.of_kind(kind) if not f.historical and f.active is not False or f.negated]
        if not facts:
            age = ix.age
            # Past the age where pregnancy (and so breastfeeding) is still possible; a stated fact wins.
            if patient.sex == "female" and age is not None and age >= PAST_CHILDBEARING_AGE:
                return Finding(NA, f"{kind} does not apply to a woman aged {age:.0f}")
            return Finding(None, f"{kind} not stated")
        latest = max(facts, key=lambda f: f.start or dt.date.min)
        return Finding(not latest.negated, f"{kind}: {'no' if latest.negated else 'yes'}", [latest])
    return check


def _covers(general: str | None, specific: PatientFact, criterion_text: str) -> bool:
    if specific.concept and general:
        return lexicon().covers(general, specific.concept)
    # A patient fact the lexicon could not name is matched on its words only when they are exactly
    # the criterion's words; anything looser would be a guess.
    return specific.text.strip().lower() == criterion_text.strip().lower()


def _relevant(fact: Fact, ix: PatientIndex, kinds: tuple[str, ...]) -> list[PatientFact]:
    """The patient's facts of these kinds about the fact's concept (or something under it); the list is
    shared: don't change it."""
    words = fact.text if not fact.concept or ix.unnamed(kinds) else None  # see _covers
    key = (kinds, fact.concept, words, fact.family, fact.exceptions)
    found = ix._relevant.get(key)
    if found is None:
        found = ix._relevant[key] = _find_relevant(fact, ix, kinds)
    return found


def _find_relevant(fact: Fact, ix: PatientIndex, kinds: tuple[str, ...]) -> list[PatientFact]:
    out = []
    for p in ix.of_kind(*kinds):
        if p.family != fact.family or not _covers(fact.concept, p, fact.text):
            continue
        if any(lexicon().covers(e, p.concept) for e in fact.exceptions if p.concept):
            continue  # "other than basal cell carcinoma"
        out.append(p)
    return out


def _in_window(fact: Fact, p: PatientFact, as_of: dt.date) -> bool | None:
    w = fact.window
    if w is None:
        return True
    since = as_of - dt.timedelta(days=w.days)
    if w.relation == "within":
        if p.active:
            return True
        if p.end is not None:
            return p.end >= since
        if p.start is not None:
            return p.start >= since
        return None
    # "at_least" / "during": it started at least that long ago (and, for a course, lasted that long)
    if p.start is None:
        return None
    end = p.end or (as_of if p.active or p.active is None else p.start)
    return p.start <= since if w.relation == "at_least" else (end - p.start).days >= w.days


# Conditions a current treatment implies: a patient on immunosuppressive drugs is immunocompromised.
_IMPLIED_BY = {"immunodeficiency": ("drug", "immunosuppressant")}


def _implied(fact: Fact, ix: PatientIndex) -> list[PatientFact]:
    """Current, stated treatments that imply the fact's condition (or one it covers)."""
    out = []
    for condition, (kind, cls) in _IMPLIED_BY.items():
        if fact.concept and lexicon().covers(fact.concept, condition):
            out += [p for p in ix.of_kind(kind) if p.concept and not p.negated and not p.historical
                    and not p.family and lexicon().covers(cls, p.concept) and not _acts_locally(p.concept)]
    return out


def _acts_locally(concept: str) -> bool:
    """An inhaled or topical drug (lexicon `local`): not a systemic immunosuppressant."""
    lex = lexicon()
    return any((c := lex.get("drug_class", name)) is not None and c.data.get("local")
               for name in (concept, *lex.ancestors(concept)))


# Habits a young child does not have: a criterion about them does not apply under this age.
_ADULT_HABITS = ("tobacco use", "alcohol use", "substance use disorder", "illicit drug use", "cannabis use")
_HABIT_AGE = 10


# Qualifiers no record can settle: "no OTHER malignancy" (the patient's may be the one the trial is for),
# "chemotherapy for breast cancer" (records rarely say what a treatment was given for).
_UNCHECKABLE = {"other": "it may be the disease this trial is for", "indication": "not what it was given for",
                "contraindication": "not whether it is contraindicated",
                "aftermath": "not whether it left the effects asked about", "planned": "not whether it is planned",
                "specific": "not whether it is to what the criterion names"}


def _in_class_at_dose(general: str | None, p: PatientFact) -> bool | None:
    """Whether the patient's drug falls under ``general`` at its dose: some drugs belong to a class only
    above a weekly dose (lexicon `class_min_weekly_mg`: methotrexate at 15 mg a week for myositis is
    not chemotherapy). None when that turns on a dose the record doesn't give."""
    lex = lexicon()
    drug = lex.get("drug", p.concept or "")
    gates = drug.data.get("class_min_weekly_mg") if drug else None
    if not gates or general is None or general == p.concept:
        return True
    if any(lex.covers(general, cls) for cls in drug.data.get("classes", ()) if cls not in gates):
        return True  # it belongs through a class that no dose decides
    limits = [mg for cls, mg in gates.items() if lex.covers(general, cls)]
    dose = _daily_dose(p)
    if not limits or dose is None:
        return True if not limits else None
    try:
        weekly = convert(dose[0], dose[1], "mg/day") * 7
    except (UnitError, ValueError):
        return None
    return weekly > min(limits)


def _diagnostic(concept: str | None) -> bool:
    c = lexicon().get("procedure", concept) if concept else None
    return bool(c and c.data.get("diagnostic"))


_UNCONTROLLED = re.compile(r"\b(?:uncontrolled|poorly[\s-]+controlled|not\s+(?:well[\s-]+)?controlled|refractory)", re.I)


def _says(p: PatientFact, qualifier: str) -> bool:
    """The patient's fact, or the sentence it came from, carries the criterion's qualifier."""
    rx = _UNCONTROLLED if qualifier == "uncontrolled" else _stem(qualifier)
    sentence = p.provenance.text or ""
    at = sentence.lower().find(p.text.lower())
    # Near the fact only: a long note sentence often holds the word for something else.
    near = sentence[max(0, at - 40):at + len(p.text) + 40] if at >= 0 else ""
    return bool(rx.search(p.text) or rx.search(near))


@cache
def _stem(qualifier: str) -> re.Pattern:
    return re.compile(r"\b" + re.escape(qualifier[:6]), re.I)  # "severe" / "severely", "symptomatic" / "symptoms"


def _presence(kinds: tuple[str, ...]):
    """Conditions, procedures, vaccines, devices, drugs without a dose: does the patient have it?"""
    def check(fact: Fact, ix: PatientIndex) -> Finding:
        facts = _relevant(fact, ix, kinds)
        age = ix.age
        if fact.kind == "condition" and age is not None and age < _HABIT_AGE and fact.concept and \
                any(lexicon().covers(h, fact.concept) for h in _ADULT_HABITS) and not any(not p.negated for p in facts):
            return Finding(NA, f"{fact.concept} does not apply to a {age:g}-year-old")
        if fact.kind == "condition" and not fact.window and not fact.thresholds:
            facts = facts + _implied(fact, ix)
        if not facts:  # the common case, as the steps below would end it
            if fact.kind == "condition" and fact.thresholds:
                return Finding(None, f"severity of {fact.concept} not known", [])
            return Finding(None, f"{fact.concept or fact.text}: not in the record")
        in_class = {id(p): _in_class_at_dose(fact.concept, p) for p in facts if p.kind == "drug" and not p.negated}
        facts = [p for p in facts if in_class.get(id(p)) is not False]
        positive = [p for p in facts if not p.negated]
        if fact.kind == "condition" and fact.thresholds:  # "grade 3 or worse": severity is rarely recorded
            return Finding(None, f"severity of {fact.concept} not known", positive)
        windows = [(p, _in_window(fact, p, ix.as_of)) for p in positive]
        if any(inside for _, inside in windows):
            hit = [p for p, inside in windows if inside]
            if all(in_class.get(id(p)) is None and id(p) in in_class for p in hit):
                return Finding(None, f"{fact.concept}: {hit[0].text}, at a dose the record does not give", hit)
            if fact.qualifier in _UNCHECKABLE:
                return Finding(None, f"{fact.concept}: {hit[0].text} recorded, but {_UNCHECKABLE[fact.qualifier]}", hit)
            if fact.qualifier and not any(_says(p, fact.qualifier) for p in hit):
                return Finding(None, f"{fact.concept}: recorded, but not whether {fact.qualifier}", hit)
            if fact.kind == "procedure" and not fact.window and _diagnostic(fact.concept):
                return Finding(None, f"{fact.concept}: done, but the record does not say what it showed", hit)
            return Finding(True, f"{fact.concept}: {hit[0].text}", hit)
        if any(inside is None for _, inside in windows):
            return Finding(None, f"{fact.concept}: recorded, but not when", [p for p, i in windows if i is None])
        if positive:
            return Finding(False, f"{fact.concept}: outside the time window", positive)
        # "Never took tofacitinib" does not say "never took a JAK inhibitor": an absence counts only
        # when it is stated for the criterion's concept itself or something broader.
        absent = [p for p in facts if p.negated and (p.concept is None or fact.concept is None
                                                     or lexicon().covers(p.concept, fact.concept))]
        if absent:
            return Finding(False, f"{fact.concept}: stated absent", absent)
        return Finding(None, f"{fact.concept or fact.text}: not in the record")
    return check


def _measured(fact: Fact, ix: PatientIndex) -> Finding:
    """Labs and scores: the latest value in the window, compared in the criterion's normalized unit."""
    patient = ix.patient
    facts = [p for p in _relevant(fact, ix, ("lab", "score")) if p.value is not None]
    if fact.window:
        facts = [p for p in facts if _in_window(fact, p, ix.as_of)]
    if not facts:
        return _reported(fact, ix) or Finding(None, f"no {fact.concept} value")
    latest = max(facts, key=lambda p: p.start or dt.date.min)
    results = []
    for t in fact.thresholds:
        if t.alternative or (t.sex and patient.sex and t.sex != patient.sex):
            continue
        if t.sex and patient.sex is None:
            return Finding(None, "sex-specific limit and sex not known", [latest])
        if t.relative_to:
            return Finding(None, f"limit is relative to the {t.relative_to}, which the record does not give",
                           [latest])
        if t.unit is None and t.norm_unit is None:
            t = _unitless(t, fact.concept)
            if t is None:
                return Finding(None, f"{fact.concept} limit has no unit and its number fits none", [latest])
        value = _in_unit(latest, t)
        if value is None:
            return Finding(None, f"{latest.text}: unit {latest.unit!r} not comparable with {t.unit!r}", [latest])
        if not _plausible(latest):
            return Finding(None, f"{latest.text}: {latest.value:g} {latest.unit or ''} is not a plausible "
                                 f"{fact.concept}; check the unit", [latest])
        if t.scale_max and latest.scale_max and t.scale_max != latest.scale_max:
            return Finding(None, f"{fact.concept} scored on /{latest.scale_max:g}, limit on /{t.scale_max:g}",
                           [latest])
        results.append(_compare(value, _limit(t)))
    if not results:
        return Finding(None, f"no limit applies to this patient for {fact.concept}", [latest])
    ok = all(results)
    return Finding(ok, f"{latest.text} = {latest.value:g} {latest.unit or ''}".rstrip(), [latest])


# What a result reported only as normal / high / low says, as a multiple of the upper or lower limit of
# normal (ULN, LLN). Low is under the LLN, so under the ULN too; the bounds are open where nothing is known.
_RELATIVE = {("ULN", "normal"): (0.0, 1.0), ("ULN", "high"): (1.0 + 1e-9, math.inf), ("ULN", "low"): (0.0, 1.0),
             ("LLN", "normal"): (1.0, math.inf), ("LLN", "high"): (1.0, math.inf), ("LLN", "low"): (0.0, 1.0 - 1e-9)}


def _reported(fact: Fact, ix: PatientIndex) -> Finding | None:
    """A lab the record reports only as normal, high or low ("CBC normal"): it settles a limit only when the
    whole range it allows lies on one side (platelets <= 100,000/uL against a normal count: not met;
    AST > 2.5 x ULN against normal LFTs: not met; platelets < 140,000 against normal: unknown, a normal
    range starts about there)."""
    if fact.kind != "lab":
        return None
    patient = ix.patient
    facts = [p for p in _relevant(fact, ix, ("lab",)) if p.value is None and p.interpretation]
    if not facts or (fact.window and not all(_in_window(fact, p, ix.as_of) for p in facts)):
        return None
    words = sorted({p.interpretation for p in facts})
    if len(words) > 1:
        return Finding(None, f"{fact.concept}: the record says both {' and '.join(words)}", facts)
    word, lab = words[0], lexicon().get("lab", fact.concept or "")
    results = []
    for t in fact.thresholds:
        if t.alternative or (t.sex and patient.sex and t.sex != patient.sex):
            continue
        if t.sex and patient.sex is None:
            results.append(None)
        elif t.relative_to:
            span = _RELATIVE.get((t.relative_to, word))
            results.append(None if span is None else _span_holds(span, t.value, t.high, t.op))
        else:
            found = _absolute(t, lab, word)
            results.append(None if found is None else _span_holds(*found, op=t.op))
    if not results or None in results and False not in results:
        return Finding(None, f"{fact.concept} reported {word} ({facts[0].text}), which does not settle "
                             f"{fact.text!r}", facts)
    return Finding(all(results), f"{fact.concept} reported {word} ({facts[0].text})", facts)


def _absolute(t: Threshold, lab, word: str) -> tuple[tuple[float, float], float, float | None] | None:
    """The values a normal / high / low result can have and the limit, both in the lab's unit (None: the
    lab has no reference range, or the limit's unit doesn't convert)."""
    normal, own = (lab.data.get("normal"), lab.data.get("unit")) if lab else (None, None)
    if not normal:
        return None
    if t.norm_value is not None and t.norm_unit == own:
        value, high = t.norm_value, t.norm_high
    else:
        unit = t.unit if t.unit or not own else getattr(_unitless(t, lab.name), "unit", None)
        if (unit is None) != (own is None):
            return None
        try:
            value, high = (v if v is None or own is None else convert(v, unit, own, lab.data.get("molar_mass"))
                           for v in (t.value, t.high))
        except (UnitError, ValueError):
            return None
    lo, hi = normal
    # The widened range's ends are not one laboratory's limits: "high" is only known to be above its low end.
    span = {"normal": (lo, hi), "high": (lo, math.inf), "low": (0.0, hi)}[word]
    return span, value, high


def _span_holds(span: tuple[float, float], value: float, high: float | None, op: str) -> bool | None:
    """Whether every value in ``span`` passes the limit (True), none does (False), or it depends (None)."""
    a, b = span
    if op == "<":
        return True if b < value else (False if a >= value else None)
    if op == "<=":
        return True if b <= value else (False if a > value else None)
    if op == ">":
        return True if a > value else (False if b <= value else None)
    if op == ">=":
        return True if a >= value else (False if b < value else None)
    if op == "between" and high is not None:
        return True if value <= a and b <= high else (False if b < value or a > high else None)
    return None


def _limit(t: Threshold) -> Threshold:
    """The threshold in its normalized unit when it has one, so it compares with normalized values."""
    if t.norm_value is None:
        return t
    return t.model_copy(update={"value": t.norm_value, "high": t.norm_high, "unit": t.norm_unit})


def _unitless(t: Threshold, concept: str | None) -> Threshold | None:
    """A lab limit written without a unit, given the unit its number is plausible in ("WBC < 4000" is per
    uL, "WBC < 4" is x10^9/L); None when no unit makes it plausible. Labs without a `plausible` range
    compare the bare numbers, as before."""
    c = lexicon().get("lab", concept or "")
    if not c or not c.data.get("plausible") or not c.data.get("unit"):
        return t
    for guess in (c.data["unit"], *c.data.get("unitless", ())):
        if _plausible_value(c, t.value, guess):
            return t.model_copy(update={"unit": guess})
    return None


def _plausible(p: PatientFact) -> bool:
    """Not a value no living patient has, once in the lab's own unit (a misread or mistyped unit)."""
    c = lexicon().get(p.kind, p.concept or "")
    return c is None or p.value is None or p.unit is None or _plausible_value(c, p.value, p.unit) is not False


def _plausible_value(c, value: float, unit: str) -> bool | None:
    """Within the concept's lexicon `plausible` range; None when it has none or the unit doesn't convert."""
    bounds, own = c.data.get("plausible"), c.data.get("unit")
    if not bounds or not own:
        return None
    try:
        converted = convert(value, unit, own, c.data.get("molar_mass"))
    except (UnitError, ValueError):
        return None
    return bounds[0] <= converted <= bounds[1]


def _in_unit(p: PatientFact, t: Threshold) -> float | None:
    """The patient's value in the limit's unit, or None when the units can't be compared."""
    target = t.norm_unit or t.unit
    if target is None or (p.unit is None and p.kind == "score"):
        return p.value  # unitless limits and scores ("ECOG 0-1", "Karnofsky 70%") compare as numbers
    if p.unit is None:
        return None
    if (normalize_unit(p.unit) or p.unit) == target:
        return p.value
    concept = lexicon().get(p.kind, p.concept or "")
    try:
        return convert(p.value, p.unit, target, concept.data.get("molar_mass") if concept else None)
    except (UnitError, ValueError):
        return None


def _daily_dose(p: PatientFact) -> tuple[float, str] | None:
    if p.value is None or p.unit is None:
        return None
    unit = normalize_unit(p.unit) or p.unit
    if "/" in unit:
        return p.value, unit
    per_day = _PER_DAY.get((p.frequency or "").lower())
    return (p.value * per_day, f"{unit}/day") if per_day else None


_DRUG_PRESENCE = _presence(("drug",))


def _drug(fact: Fact, ix: PatientIndex) -> Finding:
    if fact.dose_change:
        facts = [p for p in _relevant(fact, ix, ("drug",)) if not p.negated]
        if not facts:
            return Finding(None, f"{fact.concept}: not in the record")
        return Finding(None, f"{fact.concept}: dose changes are not in the record", facts)
    if not fact.thresholds:
        return _DRUG_PRESENCE(fact, ix)
    on = _DRUG_PRESENCE(fact, ix)
    if on.value is not True:
        return on
    for p in on.evidence:
        daily = _daily_dose(p)
        limits = [t for t in fact.thresholds if not t.alternative and t.unit is not None]
        if p.value is None or p.unit is None or daily is None and any(_is_rate(t, p) for t in limits):
            continue
        results = []
        for t in limits:
            try:
                results.append(_dose_holds(p, t, daily))
            except (UnitError, ValueError):
                return Finding(None, f"{p.text}: dose {p.value:g} {p.unit} not comparable with {t.unit}", [p])
        if not results:
            continue
        rate = daily and any(_is_rate(t, p) for t in limits)
        shown = f"{daily[0]:g} {daily[1]}" if rate else " ".join(f"{p.value:g} {p.unit} {p.frequency or ''}".split())
        if None in results:
            how_often = "the two readings differ" if p.frequency else "how often it is taken is not recorded"
            return Finding(None, f"{p.text}: {shown}; a limit in {limits[0].unit} may mean per dose or per day, "
                                 f"and {how_often}", [p])
        return Finding(all(results), f"{p.text}: {shown}", [p])
    return Finding(None, f"{fact.concept}: dose not known", on.evidence)


def _is_rate(t: Threshold, p: PatientFact) -> bool:
    return "/" in (t.norm_unit or t.unit or "") or "/" in (normalize_unit(p.unit or "") or p.unit or "")


def _dose_holds(p: PatientFact, t: Threshold, daily: tuple[float, str] | None) -> bool | None:
    """Whether the patient's dose is within the limit; None when the limit may mean per dose or per day
    and the two readings differ. Raises UnitError when the units can't be compared."""
    if _is_rate(t, p):  # a rate on either side: compare daily amounts
        return None if daily is None else _compare(convert(daily[0], daily[1], t.unit), t)
    assert p.value is not None and p.unit is not None
    unit = normalize_unit(p.unit) or p.unit
    # "Prednisone 80 mg or more": per dose or per day. A dosing day's amount is at least one dose, so a
    # lower bound the dose passes, or an upper bound it breaks, holds for the day too.
    single = _compare(convert(p.value, unit, t.unit), t)
    per_day = _PER_DAY.get((p.frequency or "").lower())
    if per_day is None:  # how often is not recorded
        passes_lower, breaks_upper = t.op in (">", ">=") and single, t.op in ("<", "<=") and not single
        return single if passes_lower or breaks_upper else None
    return single if _compare(convert(p.value * max(per_day, 1), unit, t.unit), t) == single else None


def _stated(kind: str):
    """Consent and compliance: only what the person (or their note) says counts."""
    def check(fact: Fact, ix: PatientIndex) -> Finding:
        facts = ix.of_kind(kind)
        if not facts:
            return Finding(None, f"{kind} not stated")
        return Finding(not facts[-1].negated, f"{kind}: {facts[-1].text}", [facts[-1]])
    return check


_CHECKS = {
    "age": _age,
    "sex": _sex,
    "pregnancy": _female_only("pregnancy"),
    "breastfeeding": _female_only("breastfeeding"),
    "condition": _presence(("condition", "smoking")),
    "procedure": _presence(("procedure",)),
    "vaccine": _presence(("vaccine",)),
    "device": _presence(("device",)),
    "lab": _measured,
    "score": _measured,
    "drug": _drug,
    "drug_class": _drug,
    "consent": _stated("consent"),
    "compliance": _stated("compliance"),
}
