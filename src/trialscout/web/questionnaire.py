"""The "Am I a good fit?" questionnaire: questions from a trial's parsed criteria, answers -> profile -> match.

``questions_for(criteria)`` asks what the criteria can check: always age and sex; pregnancy and
breastfeeding when a criterion mentions them; the diagnosis the inclusion criteria require; each
medication (is it taken now, or when it was stopped when a time window asks, its dose in the
criterion's unit when a dose limit asks); each lab and score with a limit, in the criterion's unit;
conditions, procedures and vaccines the exclusions name. One question per concept, at most
``limit`` (25) of them, the ones that can decide the verdict first; the list is then ordered by
``group`` for display.

Left out on purpose: consent, willingness to comply, language and contraception (settled with the
study team, and the parser reads "lack capacity to consent" as a consent fact); facts the matcher
can never settle (dose changes, condition severities, limits relative to the ULN); devices (the
profile has no field for them).

``profile_from_answers(questions, answers)`` turns submitted form values into a dict shaped like
``patients.profile.Profile``. Blank and "don't know" answers leave the fact out, so the criterion
stays "unknown"; nothing is guessed. Every answer is checked before anything is built; all the bad
ones are reported together in one ``AnswerError`` (a ``PatientInputError``) whose message names
each question by its label and never repeats the submitted value, and whose ``problems`` map field
names to messages so a page can mark the fields.

Answer values: yes/no questions take "yes", "no" or "dk" (also true/false, y/n, on/off, 1/0);
choice questions take one of their ``choices`` values; numbers accept "90000", "90,000" and
"1.5" within ``min``..``max`` (hard bounds); dates accept YYYY, YYYY-MM or YYYY-MM-DD, not after
``as_of``. Answers for names that are not questions are ignored.

Time windows are asked as choices whose boundaries are the criteria's own windows ("stopped less
than 6 months ago", "6 to 12 months ago", "more than 12 months ago"), turned into a date relative
to ``as_of`` that falls on the right side of every window, so the matcher's window checks come out
exactly as the answer says. "No"/"never" is sent as a stated absence (``negated``), which settles
criteria about that concept (or anything it covers) and nothing broader.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from trialscout.criteria import Criterion, Fact
from trialscout.criteria.lexicon import lexicon
from trialscout.criteria.units import UnitError, convert
from trialscout.match import TrialMatch, match_criteria
from trialscout.patients.concepts import unit_of
from trialscout.patients.errors import PatientInputError
from trialscout.patients.profile import patient_from_profile

__all__ = ["AnswerError", "Choice", "GROUPS", "Question", "check_fit", "display_unit", "profile_from_answers",
           "questions_for"]

Group = Literal["about you", "diagnosis", "medications", "tests", "scores", "other"]
GROUPS: tuple[str, ...] = ("about you", "diagnosis", "medications", "tests", "scores", "other")
Kind = Literal["number", "yesno", "choice", "date"]
Role = Literal["age", "sex", "pregnant", "breastfeeding", "diagnosis", "condition", "drug", "dose", "start",
               "lab", "tests_date", "score", "scale", "procedure", "vaccine"]

DONT_KNOW = "dk"
_MAX_LEFTOVER = 4  # as match.evaluate: a criterion with more unread words is never decided by its facts
_MAX_TEXT = 60  # longest answer worth reading for a number, date or choice


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Frozen):
    value: str  # what the form submits
    label: str  # what the person reads


class Question(_Frozen):
    """One form field. ``name`` is stable for a given trial and matches ``[a-z0-9_]+``."""

    name: str
    label: str
    kind: Kind
    group: Group
    unit: str | None = None  # shown next to a number input, in the criterion's own unit
    choices: tuple[Choice, ...] = ()  # for "choice" and "yesno" (the latter: yes / no / don't know)
    min: float | None = None  # number bounds, enforced by profile_from_answers
    max: float | None = None
    step: float | None = None  # None: any value
    help: str = ""
    criteria: tuple[int, ...] = ()  # ids of the criteria that asked it
    concept: str | None = None  # lexicon concept the answer is about
    role: Role
    for_question: str | None = None  # dose/start/scale questions: the question they complete


_DK = Choice(value=DONT_KNOW, label="Don't know")
_YESNO = (Choice(value="yes", label="Yes"), Choice(value="no", label="No"), _DK)
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}
_BLANK = {"", DONT_KNOW, "dont_know", "don't know", "unknown", "not sure", "none"}


class AnswerError(PatientInputError):
    """Answers that could not be read. ``problems`` maps question names to what was wrong."""

    def __init__(self, problems: Mapping[str, str], labels: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        text = "; ".join(f"'{labels.get(name, name)}': {msg}" for name, msg in self.problems.items())
        super().__init__("questionnaire", text)


# --- units -------------------------------------------------------------------------------------------

_DISPLAY = {
    "1/uL": "/µL", "1/mL": "/mL", "1e9/L": "x10^9/L", "1e12/L": "x10^12/L", "1e3/uL": "x10^3/µL",
    "1e6/uL": "x10^6/µL", "mL/min/(1.73 m^2)": "mL/min/1.73 m²", "kg/m^2": "kg/m²", "m^2": "m²",
    "mg/m^2": "mg/m²", "degC": "°C", "degF": "°F",
}


def display_unit(unit: str | None) -> str | None:
    """A canonical unit spelling as a person writes it ("1/uL" -> "/µL", "umol/L" -> "µmol/L"). Every
    display spelling reads back to the same canonical unit through ``patients.concepts.unit_of``."""
    if not unit:
        return None
    if unit in _DISPLAY:
        return _DISPLAY[unit]
    return re.sub(r"(?<![A-Za-z])u(?=(?:g|mol|IU|kat|L)\b)", "µ", unit)


def _num(x: float) -> str:
    return f"{x:,.10g}"


# --- reading the criteria ----------------------------------------------------------------------------

def _slug(text: str, limit: int = 40) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")
    return s[:limit].rstrip("_") or "x"


def _days(d: int) -> str:
    def n(v: int, word: str) -> str:
        return f"{v} {word}" + ("s" if v != 1 else "")
    if d >= 365 and d % 365 == 0:
        return n(d // 365, "year")
    if d >= 60 and d % 30 == 0:
        return n(d // 30, "month")
    if d >= 14 and d % 7 == 0:
        return n(d // 7, "week")
    return n(d, "day")


def _decisive(criteria: list[Criterion]) -> dict[int, bool]:
    """Can a criterion's own facts change the verdict? Not when it or an ancestor is only partly read
    (the matcher then reports it unknown whatever the facts say) or it sits under no section."""
    by_id = {c.id: c for c in criteria}
    out: dict[int, bool] = {}
    for c in criteria:
        ok, node, seen = c.section in ("inclusion", "exclusion"), c, set()
        while ok and node is not None and node.id not in seen:
            seen.add(node.id)
            if node.facts and node.leftover > _MAX_LEFTOVER:
                ok = False
            node = by_id.get(node.parent) if node.parent is not None else None
        out[c.id] = ok
    return out


@dataclass
class _Topic:
    """Everything the criteria say about one concept (or one demographic)."""

    key: tuple[str, str]  # (topic kind, concept)
    mentions: list[tuple[Criterion, Fact, bool]] = field(default_factory=list)  # (criterion, fact, decisive)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(c.id for c, _, _ in self.mentions))

    def rank(self, tier_of) -> tuple[int, int]:
        return min((tier_of(c, f, d), c.id) for c, f, d in self.mentions)


_TOPIC_KIND = {"drug": "drug", "drug_class": "drug", "condition": "condition", "lab": "lab", "score": "score",
               "procedure": "procedure", "vaccine": "vaccine", "pregnancy": "pregnancy",
               "breastfeeding": "breastfeeding", "age": "age", "sex": "sex"}


def _askable(f: Fact) -> bool:
    if f.kind in ("age", "sex", "pregnancy", "breastfeeding"):
        return True
    if f.kind not in _TOPIC_KIND or not f.concept or f.family:
        return False
    if f.kind in ("drug", "drug_class") and f.dose_change:
        return False  # "change in dose": the matcher never settles it from a profile
    if f.kind == "condition" and f.thresholds:
        return False  # severity grades are never recorded
    if f.qualifier:
        return False  # "uncontrolled", "allergy to", "other": a yes/no about the bare concept can't settle it
    if f.kind in ("lab", "score"):
        return bool(_limits(f))
    return True


def _limits(f: Fact):
    return [t for t in f.thresholds if not t.alternative and not t.relative_to]


def _topics(criteria: list[Criterion]) -> dict[tuple[str, str], _Topic]:
    decisive = _decisive(criteria)
    topics: dict[tuple[str, str], _Topic] = {}
    for c in criteria:
        if c.role != "criterion":
            continue
        general = [f.concept for f in c.facts if f.kind == "condition" and f.concept and not f.negated]
        for f in c.facts:
            if not _askable(f):
                continue
            if (f.kind == "condition" and c.section == "inclusion" and not f.negated
                    and any(g != f.concept and lexicon().covers(g, f.concept) for g in general)):
                continue  # "dermatomyositis or juvenile dermatomyositis": asking the first is enough
            kind = _TOPIC_KIND[f.kind]
            key = (kind, f.concept or "") if kind in ("drug", "condition", "lab", "score", "procedure", "vaccine") \
                else (kind, "")
            topics.setdefault(key, _Topic(key)).mentions.append((c, f, decisive[c.id]))
    return topics


def _tier(c: Criterion, f: Fact, decisive: bool) -> int:
    """Lower asks first: what can decide the verdict, thresholds before presence, inclusions' diagnosis early."""
    if f.kind == "condition" and c.section == "inclusion" and not f.negated:
        return 1 if decisive else 2  # the diagnosis a trial is for: asked even when its wording defeats the parser
    if not decisive:
        return 9
    if f.kind in ("pregnancy", "breastfeeding"):
        return 1
    if f.thresholds:
        return 2
    if f.kind in ("drug", "drug_class"):
        return 3 if c.section == "exclusion" else 5
    return 4 if c.section == "exclusion" else 5


# --- building questions ------------------------------------------------------------------------------

def _article(name: str, kind: str) -> str:
    if kind != "drug_class":
        return name
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _acronym(name: str, kind: str) -> str:
    """ "white blood cell count" -> "white blood cell count (WBC)": the short form people see on reports."""
    c = lexicon().get(kind, name)
    short = next((s for s in (c.synonyms if c else ()) if re.fullmatch(r"[A-Z][A-Z0-9-]{1,7}", s)), None)
    return f"{name} ({short})" if short and short not in name else name


def _also_called(name: str, kind: str) -> str:
    c = lexicon().get(kind, name)
    if c is None:
        return ""
    syn = [s for s in c.synonyms if s.lower() != name.lower() and len(s) > 2][:3]
    return f"Also called {', '.join(syn)}." if syn else ""


_PLAIN = {
    "investigational drug": "A drug that is still being tested in a clinical study.",
    "biologic": "A medicine made from living cells, usually given by injection or infusion.",
}


def _examples(name: str) -> str:
    if name in _PLAIN:
        return _PLAIN[name]
    lex = lexicon()
    members = sorted(d for d in lex.descendants(name) if (c := lex.get("drug", d)) is not None and c.codes)
    if not members:
        members = sorted(d for d in lex.descendants(name) if lex.get("drug", d) is not None)
    return f"For example {', '.join(members[:3])}." if len(members) >= 2 else ""


def _windows(mentions) -> list[int]:
    return sorted({f.window.days for _, f, _ in mentions if f.window and f.window.relation == "within"
                   and f.window.days > 0})


def _timing_choices(windows: list[int], now_label: str | None, past: str, never: str) -> tuple[Choice, ...]:
    """Choices whose boundaries are the criteria's windows: w<D> = "between the previous boundary and D
    days ago", gt<D> = "more than D days ago" (D the largest window)."""
    out = [Choice(value="now", label=now_label)] if now_label else []
    prev = 0
    for d in windows:
        label = f"{past} less than {_days(d)} ago" if prev == 0 else f"{past} {_days(prev)} to {_days(d)} ago"
        out.append(Choice(value=f"w{d}", label=label))
        prev = d
    if windows:
        out.append(Choice(value=f"gt{windows[-1]}", label=f"{past} more than {_days(windows[-1])} ago"))
    out += [Choice(value="never", label=never), _DK]
    return tuple(out)


def _drug_unit(f_list: list[Fact]) -> str | None:
    units = [t.unit for f in f_list for t in f.thresholds if t.unit and not t.alternative]
    for u in units:
        if "/" in u:
            return u
    for u in units:
        return f"{u}/day" if unit_of(f"{u}/day")[1] else u
    return None


def _unit_help(shown: str | None, canonical: str | None, molar: float | None) -> str:
    if not shown or not canonical or shown == canonical:
        return ""
    try:
        factor = convert(1.0, canonical, shown, molar)
    except (UnitError, ValueError):
        return ""
    return f" 1 {display_unit(canonical)} = {_num(factor)} {display_unit(shown)}."


@dataclass
class _Unit:
    """Questions that belong together (a drug, its dose, its start date) and their priority."""

    rank: tuple[int, int]
    group: str
    questions: list[Question]


def _build(topic: _Topic, tier_of) -> _Unit | None:
    kind, concept = topic.key
    ids = topic.ids
    facts = [f for _, f, _ in topic.mentions]
    rank = topic.rank(tier_of)
    lex = lexicon()
    if kind == "pregnancy":
        return _Unit(rank, "about you", [Question(
            name="pregnant", label="Are you pregnant?", kind="yesno", group="about you", choices=_YESNO,
            help="Applies to women only; men can skip it.", criteria=ids, role="pregnant")])
    if kind == "breastfeeding":
        return _Unit(rank, "about you", [Question(
            name="breastfeeding", label="Are you breastfeeding?", kind="yesno", group="about you", choices=_YESNO,
            help="Applies to women only; men can skip it.", criteria=ids, role="breastfeeding")])
    slug = _slug(concept)
    if kind == "condition":
        inclusion = [(c, f) for c, f, _ in topic.mentions if c.section == "inclusion" and not f.negated]
        windows = _windows(topic.mentions)
        if inclusion and not windows:
            return _Unit(rank, "diagnosis", [Question(
                name=f"dx_{slug}", label=f"Have you been diagnosed with {concept}?", kind="yesno",
                group="diagnosis", choices=_YESNO, help=_also_called(concept, "condition"), criteria=ids,
                concept=concept, role="diagnosis")])
        if windows:
            return _Unit(rank, "other", [Question(
                name=f"cond_{slug}", label=f"Have you had {concept}?", kind="choice", group="other",
                choices=_timing_choices(windows, "Yes, I have it now", "Yes, it ended", "No, never"),
                help=_also_called(concept, "condition"), criteria=ids, concept=concept, role="condition")])
        ever = any(f.historical for f in facts)
        label = f"Have you ever had {concept}?" if ever else f"Do you have {concept}?"
        return _Unit(rank, "other", [Question(
            name=f"cond_{slug}", label=label, kind="yesno", group="other", choices=_YESNO,
            help=_also_called(concept, "condition"), criteria=ids, concept=concept, role="condition")])
    if kind in ("procedure", "vaccine"):
        windows = _windows(topic.mentions)
        what = "received" if kind == "vaccine" else "had"
        noun = f"a {concept}" if kind == "vaccine" and not concept.endswith("s") else concept
        prefix = "vax" if kind == "vaccine" else "proc"
        if windows:
            q = Question(name=f"{prefix}_{slug}", label=f"Have you {what} {noun}?", kind="choice", group="other",
                         choices=_timing_choices(windows, None, "Yes,", "No, never"),
                         help=_also_called(concept, kind), criteria=ids, concept=concept, role=kind)
        else:
            q = Question(name=f"{prefix}_{slug}", label=f"Have you ever {what} {noun}?", kind="yesno",
                         group="other", choices=_YESNO, help=_also_called(concept, kind), criteria=ids,
                         concept=concept, role=kind)
        return _Unit(rank, "other", [q])
    if kind == "drug":
        lex_kind = "drug_class" if any(f.kind == "drug_class" for f in facts) else "drug"
        name = _article(concept, lex_kind)
        windows = _windows(topic.mentions)
        past = any(f.historical for f in facts)
        excepted = sorted({e for f in facts for e in f.exceptions if e != concept})
        help_ = " ".join(x for x in (
            _examples(concept) if lex_kind == "drug_class" else _also_called(concept, "drug"),
            f"Not counting {', '.join(excepted)}." if excepted else "") if x)
        main = f"drug_{slug}"
        if windows or past:
            q = Question(name=main, label=f"Have you taken {name}?", kind="choice", group="medications",
                         choices=_timing_choices(windows, "Yes, I take it now", "Yes, I stopped" if windows
                                                 else "Yes, in the past but not now", "No, never")
                         if windows else (Choice(value="now", label="Yes, I take it now"),
                                          Choice(value="past", label="Yes, in the past but not now"),
                                          Choice(value="never", label="No, never"), _DK),
                         help=help_, criteria=ids, concept=concept, role="drug")
        else:
            q = Question(name=main, label=f"Are you taking {name} now?", kind="yesno", group="medications",
                         choices=_YESNO, help=help_, criteria=ids, concept=concept, role="drug")
        out = [q]
        dosed = [f for f in facts if f.thresholds]
        if dosed:
            unit = _drug_unit(dosed)
            per = {"/day": " each day", "/week": " each week"}.get(unit[unit.find("/"):] if unit and "/" in unit
                                                                    else "", "")
            out.append(Question(
                name=f"dose_{slug}", label=f"What {concept} dose do you take{per}?", kind="number",
                group="medications", unit=display_unit(unit), min=0, max=100_000, step=None,
                help="Your current dose, or the last one if you stopped.",
                criteria=tuple(dict.fromkeys(c.id for c, f, _ in topic.mentions if f.thresholds)),
                concept=concept, role="dose", for_question=main))
        if any(f.window and f.window.relation in ("at_least", "during") for _, f, d in topic.mentions if d):
            out.append(Question(
                name=f"start_{slug}", label=f"When did you start {name}?", kind="date", group="medications",
                help="YYYY-MM-DD, or just YYYY-MM or YYYY if that is all you know.",
                criteria=tuple(dict.fromkeys(c.id for c, f, _ in topic.mentions
                                             if f.window and f.window.relation in ("at_least", "during"))),
                concept=concept, role="start", for_question=main))
        return _Unit(rank, "medications", out)
    if kind == "lab":
        c = lex.get("lab", concept)
        canonical = c.data.get("unit") if c else None
        limits = [t for f in facts for t in _limits(f)]
        unit = next((t.unit for t in limits if t.unit and unit_of(t.unit)[1]), None) or canonical
        shown = display_unit(unit)
        help_ = (f"From your most recent test, in {shown}." if shown else "From your most recent test.") + \
            _unit_help(unit, canonical, c.data.get("molar_mass") if c else None)
        return _Unit(rank, "tests", [Question(
            name=f"lab_{slug}", label=f"What was your latest {_acronym(concept, 'lab')}?", kind="number", group="tests",
            unit=shown, min=0, max=1e9, step=None, help=help_.strip(), criteria=ids, concept=concept, role="lab")])
    if kind == "score":
        c = lex.get("score", concept)
        data = c.data if c else {}
        scales = [float(s) for s in data.get("scales") or []]
        stated = next((t.scale_max for f in facts for t in _limits(f) if t.scale_max), None)
        lo = data.get("min")
        hi = max(scales) if scales else (data.get("max") if data.get("max") is not None else stated)
        if len(scales) <= 1 and stated and (hi is None or stated > hi):
            hi = stated
        unit = None if len(scales) > 1 else (f"out of {_num(stated or hi)}" if (stated or hi) else
                                               display_unit(data.get("unit")))
        rng = f"Scored {_num(lo)} to {_num(hi)}" if lo is not None and hi is not None else ""
        worse = {"worse": "higher is worse", "better": "higher is better"}.get(data.get("higher_is") or "")
        help_ = ", ".join(x for x in (rng, worse) if x)
        main = f"score_{slug}"
        out = [Question(name=main, label=f"What was your latest {_acronym(concept, 'score')}"
                        f"{'' if concept.lower().endswith('score') else ' score'}?", kind="number", group="scores",
                        unit=unit, min=lo, max=hi, step=None,
                        help=(help_ + "." if help_ else "") + (" Ask your care team if you are not sure."),
                        criteria=ids, concept=concept, role="score")]
        if len(scales) > 1:
            out.append(Question(
                name=f"scale_{slug}", label=f"Which {concept} scale is that score on?", kind="choice",
                group="scores", choices=(*(Choice(value=f"{s:g}", label=f"out of {s:g}") for s in scales), _DK),
                help=(f"The trial states its limit out of {stated:g}. " if stated else "")
                + "Needed to compare a score that would fit either scale.",
                criteria=ids, concept=concept, role="scale", for_question=main))
        return _Unit(rank, "scores", out)
    return None


def questions_for(criteria: list[Criterion], *, limit: int = 25) -> list[Question]:
    """The questionnaire for one trial's parsed criteria: age and sex always, then at most ``limit``
    questions in all, chosen most decisive first, returned in ``GROUPS`` order."""
    topics = _topics(criteria)
    age_ids = topics.pop(("age", ""), _Topic(("age", ""))).ids
    sex_ids = topics.pop(("sex", ""), _Topic(("sex", ""))).ids
    fixed = [
        Question(name="age", label="How old are you?", kind="number", group="about you", unit="years", min=0,
                 max=120, step=1, help="Your age in years today.", criteria=age_ids, role="age"),
        Question(name="sex", label="What is your sex?", kind="choice", group="about you",
                 choices=(Choice(value="female", label="Female"), Choice(value="male", label="Male"),
                          Choice(value=DONT_KNOW, label="Prefer not to say")),
                 help="As your medical records give it; some trials are for one sex only.", criteria=sex_ids,
                 role="sex"),
    ]
    units = [u for t in topics.values() if (u := _build(t, _tier)) is not None]
    if any(q.role == "lab" or q.role == "score" for u in units for q in u.questions) and any(
            f.window for t in topics.values() if t.key[0] in ("lab", "score") for _, f, _ in t.mentions):
        windowed = tuple(dict.fromkeys(c.id for t in topics.values() if t.key[0] in ("lab", "score")
                                       for c, f, _ in t.mentions if f.window))
        rank = min(t.rank(_tier) for t in topics.values() if t.key[0] in ("lab", "score"))
        units.append(_Unit((rank[0], rank[1] + 1), "tests", [Question(
            name="tests_date", label="When were those tests done?", kind="date", group="tests",
            help="The date of the most recent results you entered (YYYY-MM-DD, YYYY-MM or YYYY).",
            criteria=windowed, role="tests_date")]))
    units.sort(key=lambda u: u.rank)
    dx: list[str] = []
    for u in list(units):  # one diagnosis per family: "dermatomyositis" makes "inflammatory myopathy" redundant
        q = u.questions[0]
        if q.role != "diagnosis":
            continue
        if any(lexicon().covers(q.concept or "", d) or lexicon().covers(d, q.concept or "") for d in dx):
            units.remove(u)
        else:
            dx.append(q.concept or "")
    chosen: list[_Unit] = []
    room = max(0, limit - len(fixed))
    for u in units:
        if len(u.questions) <= room:
            chosen.append(u)
            room -= len(u.questions)
    chosen.sort(key=lambda u: (GROUPS.index(u.group), u.rank))
    out = fixed + [q for u in chosen for q in u.questions]
    seen: set[str] = set()
    unique = []
    for q in out:  # distinct concepts with the same slug: keep names unique
        name, n = q.name, 2
        while name in seen:
            name, n = f"{q.name}_{n}", n + 1
        seen.add(name)
        unique.append(q if name == q.name else q.model_copy(update={"name": name}))
    return _fix_links(unique, out)


def _fix_links(renamed: list[Question], original: list[Question]) -> list[Question]:
    mapping = {o.name: r.name for o, r in zip(original, renamed) if o.name != r.name}
    if not mapping:
        return renamed
    return [q.model_copy(update={"for_question": mapping.get(q.for_question, q.for_question)})
            if q.for_question else q for q in renamed]


# --- reading answers ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^[+-]?\.\d+$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class _Bad(ValueError):
    pass


def _raw(answers: Mapping[str, Any], name: str) -> str:
    value = answers.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def _number(q: Question, text: str) -> float:
    if len(text) > _MAX_TEXT:
        raise _Bad("too long for a number")
    s = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("_", "")
    if not _NUMBER.match(s):
        if re.fullmatch(r"[+-]?\d+,\d{1,2}", s):
            raise _Bad("not a number (use a point for decimals, e.g. 1.5)")
        raise _Bad("not a number")
    value = float(s.replace(",", ""))
    if not math.isfinite(value):
        raise _Bad("not a number")
    if q.min is not None and value < q.min or q.max is not None and value > q.max:
        lo = _num(q.min) if q.min is not None else "any"
        hi = _num(q.max) if q.max is not None else "any"
        raise _Bad(f"must be between {lo} and {hi}" + (f" {q.unit}" if q.unit else ""))
    return value


def _date(text: str, as_of: dt.date) -> dt.date:
    m = _DATE.match(text) if len(text) <= _MAX_TEXT else None
    if not m:
        raise _Bad("not a date (use YYYY-MM-DD, YYYY-MM or YYYY)")
    try:
        day = dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise _Bad("not a valid date") from None
    if day.year < 1900 or day > as_of:
        raise _Bad("must be a past date")
    return day


def _read(q: Question, text: str, as_of: dt.date) -> Any:
    """The answer as a value (None: blank or don't know)."""
    if text.lower() in _BLANK:
        return None
    if q.kind == "number":
        return _number(q, text)
    if q.kind == "date":
        return _date(text, as_of)
    if q.kind == "yesno":
        low = text.lower()
        if low in _YES:
            return True
        if low in _NO:
            return False
        raise _Bad("answer yes, no or don't know")
    allowed = {c.value for c in q.choices}
    if len(text) > _MAX_TEXT or text not in allowed:
        raise _Bad("not one of the choices")
    return None if text == DONT_KNOW else text


def _ago(as_of: dt.date, days: int) -> str:
    return (as_of - dt.timedelta(days=days)).isoformat()


def _timing(value: str) -> str:
    """A drug's timing choice -> "now", "past" or "never"."""
    return value if value in ("now", "never", "past") else "past"  # w<D>, gt<D>: stopped some time ago


def _boundaries(q: Question) -> list[int]:
    return [int(c.value[1:]) for c in q.choices if re.fullmatch(r"w\d+", c.value)]


def _ended(q: Question, value: str, as_of: dt.date) -> str | None:
    """The date a timing choice stands for. "w<D>" (between the previous boundary B, 0 for the first,
    and D days ago) -> B + 1 days ago: inside every window of D days or more, outside every window of
    B days or less; "gt<D>" -> D + 1 days ago, outside every window. None for the other choices."""
    if value.startswith("gt"):
        return _ago(as_of, int(value[2:]) + 1)
    if value.startswith("w"):
        d = int(value[1:])
        bounds = _boundaries(q)
        prev = max((b for b in bounds if b < d), default=0)
        return _ago(as_of, prev + 1)
    return None


def profile_from_answers(questions: Iterable[Question], answers: Mapping[str, Any], *,
                         as_of: dt.date | None = None) -> dict:
    """Submitted form values -> a dict ``patient_from_profile`` accepts. ``as_of`` (default today) dates
    the "N weeks ago" choices and bounds dates. Raises ``AnswerError`` listing every unreadable answer."""
    as_of = as_of or dt.date.today()
    questions = list(questions)
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for q in questions:
        try:
            v = _read(q, _raw(answers, q.name), as_of)
        except _Bad as exc:
            problems[q.name] = str(exc)
            continue
        if v is not None:
            values[q.name] = v
    for q in questions:  # a score above the scale it is said to be on
        if q.role == "scale" and q.name in values and values.get(q.for_question or "", 0) > float(values[q.name]):
            problems.setdefault(q.for_question or q.name, f"more than {values[q.name]} is not possible on that scale")
    if problems:
        raise AnswerError(problems, {q.name: q.label for q in questions})

    profile: dict[str, Any] = {}
    lists: dict[str, list] = {}

    def add(field_: str, item: dict) -> None:
        lists.setdefault(field_, []).append(item)

    tests_date = values.get("tests_date")
    scales = {q.for_question: values.get(q.name) for q in questions if q.role == "scale"}
    doses = {q.for_question: (values.get(q.name), q.unit) for q in questions if q.role == "dose"}
    starts = {q.for_question: values.get(q.name) for q in questions if q.role == "start"}
    for q in questions:
        v = values.get(q.name)
        if q.role in ("dose", "start", "scale", "tests_date"):
            continue  # read with the question they complete
        if v is None:
            continue
        if q.role == "age":
            profile["age"] = v
        elif q.role == "sex":
            profile["sex"] = v
        elif q.role in ("pregnant", "breastfeeding"):
            profile[q.role] = v
        elif q.role in ("diagnosis", "condition"):
            if v is True or v == "now":
                add("conditions", {"name": q.concept, "active": True} if v == "now" else {"name": q.concept})
            elif v is False or v == "never":
                add("conditions", {"name": q.concept, "negated": True})
            else:
                add("conditions", {"name": q.concept, "since": _ended(q, v, as_of), "active": False})
        elif q.role in ("procedure", "vaccine"):
            field_ = "procedures" if q.role == "procedure" else "vaccines"
            if v is True:
                add(field_, {"name": q.concept})
            elif v is False or v == "never":
                add(field_, {"name": q.concept, "negated": True})
            else:
                add(field_, {"name": q.concept, "date": _ended(q, v, as_of)})
        elif q.role == "drug":
            state = "now" if v is True else ("never" if v is False else _timing(v))
            if state == "never":
                add("medications", {"name": q.concept, "negated": True})
                continue
            item: dict[str, Any] = {"name": q.concept, "active": state == "now"}
            if state == "past" and (until := _ended(q, v, as_of)):
                item["until"] = until
            dose, unit = doses.get(q.name, (None, None))
            if dose is not None:
                item["dose"], item["unit"] = dose, unit
            if (start := starts.get(q.name)) is not None:
                item["since"] = start.isoformat()
            add("medications", item)
        elif q.role == "lab":
            item = {"name": q.concept, "value": v, "unit": q.unit}
            if tests_date is not None:
                item["date"] = tests_date.isoformat()
            add("labs", item)
        elif q.role == "score":
            scale = scales.get(q.name)
            concept = lexicon().get("score", q.concept or "")
            options = [float(s) for s in (concept.data.get("scales") or [])] if concept else []
            item = {"name": q.concept, "value": v}
            if scale is not None:
                item["scale_max"] = float(scale)
            elif len(options) > 1 and sum(v <= s for s in options) > 1:
                continue  # fits several scales and none was said: leave it out rather than guess
            if tests_date is not None:
                item["date"] = tests_date.isoformat()
            add("scores", item)
    profile.update(lists)
    return profile


def check_fit(trial_id: str, title: str | None, criteria: list[Criterion], answers: Mapping[str, Any],
              as_of: dt.date) -> tuple[TrialMatch, list[Question]]:
    """Questions for the trial -> answers read into a profile -> patient -> match. Raises ``AnswerError``
    for unreadable answers (before matching anything)."""
    questions = questions_for(criteria)
    profile = profile_from_answers(questions, answers, as_of=as_of)
    patient = patient_from_profile(profile, source_name="questionnaire")
    return match_criteria(trial_id, criteria, patient, as_of, title), questions
