"""Parse a trial's eligibility text into typed criteria: the engine's entry point.

Per criterion: demographics by pattern, lexicon concepts (with ConText flags) by phrase matching,
thresholds and time windows from the text, then each threshold and window is attached to the concept
it follows. A criterion where nothing fits keeps its text and no facts ("unparsed"), so nothing is
dropped and nothing guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from .demographics import demographic_facts
from .lexicon import lexicon
from .model import Criterion, Fact, Threshold, Window
from .nlp import Mention, mentions
from .numbers import normalize_text
from .readings import (EXPOSURES, asks_nothing, condition_qualifier, exposure_qualifier, indications, is_label,
                       not_excluding, permission, restated_exclusions, washout, without_labels)
from .split import CriterionItem, split_criteria
from .temporal import find_windows
from .thresholds import Threshold as RawThreshold
from .thresholds import find_thresholds
from .units import UnitError, convert, normalize_unit

__all__ = ["PARSER_VERSION", "parse_criteria", "parse_item"]

# Bump when parsing output changes, so stored criteria are re-parsed (store/criteria cache key).
PARSER_VERSION = 13

_MEASURABLE = {"lab", "score", "drug", "drug_class"}
_ALLERGY_TO = re.compile(r"\s*(?:reactions?\s+)?(?:to|against)\s+(?!any\b|all\b)", re.I)
_DOSE_BEFORE_GAP = re.compile(r"\s{0,3}(?:of\s+)?(?:oral\s+|daily\s+|systemic\s+)?", re.I)
_TIME_UNITS = {"years", "year", "months", "month", "weeks", "week", "days", "day", "hours", "hour",
               "a", "mo", "d", "wk", "h", "min"}
_EXCEPT_WORDS = ("other", "except", "exclud", "apart", "besides", "unless", "but not")  # cheap gate
_EXCEPT = re.compile(r"\b(?:other\s+than|except(?:\s+for)?|with\s+the\s+exception\s+of|excluding|apart\s+from|"
                     r"besides|unless|but\s+not)\b", re.I)
# "(including varicella or measles)", "(e.g. ...)": examples of the concept before them, not new facts.
_EXAMPLES = re.compile(r"\((?:including|incl\.|e\.g\.?,?|eg,?|such\s+as|for\s+example|i\.e\.?,?)\s[^()]*\)", re.I)
_DOSE_CHANGE = re.compile(r"\b(?:chang\w*|increas\w*|decreas\w*|adjust\w*|modif\w*|taper\w*|escalat\w*)\s+"
                          r"(?:in\s+|of\s+)?(?:the\s+)?(?:dos\w*|regimen)|\bdos\w*\s+(?:chang|modif|adjust)\w*", re.I)
_ANY_OF = re.compile(r"\b(?:(?:any|at\s+least)\s+(?P<n>one|1|two|2|three|3)\s+(?:\(\d\)\s+)?of|"
                     r"(?:meets?|meeting|has|have|having|with|satisf\w+|fulfil\w*)\s+(?:any\s+)?(?:one|1|any)\s+"
                     r"(?:\(1\)\s+)?of|either(?:\s+of)?|one\s+or\s+more\s+of)\s+the\s+following", re.I)
_TOGETHER = re.compile(r"\b(?:in\s+combination\s+with|combined\s+with|together\s+with|along\s+with|accompanied\s+by|"
                       r"in\s+conjunction\s+with|in\s+addition\s+to)\b", re.I)
# "sarcoidosis requiring corticosteroids": a condition and its treatment, both or neither
_NEEDS = re.compile(r"\b(?:requir(?:ing|ed|es)|treated\s+with|managed\s+with)\b", re.I)
# "a traumatic cause of dyspnea", "hospitalization due to heart failure": one finding because of the other
_CAUSE = re.compile(r"\b(?:cause\s+of|caused\s+by|due\s+to|secondary\s+to|resulting\s+from|because\s+of)\b", re.I)
_POPULATION = {"pregnancy", "breastfeeding", "sex", "age", "contraception"}
_QUALIFIED = re.compile(r"^\W*(?:pregnan\w*|wom[ae]n|females?|m[ae]n|males?)\b(?:\s+(?:wom[ae]n|patients?))?\s+"
                        r"(?:who\s+(?:are|is|have|has)|with|affected\s+by|having|suffering\s+from|diagnosed\s+with)\b",
                        re.I)
_OR = re.compile(r"\b(?:or|and/or)\b|/", re.I)
_JOIN = re.compile(r"^\s*(?:,|/|or|and|and/or|&)?\s*(?:\([^()]{0,30}\))?\s*$", re.I)
_SCORE_VALUES = re.compile(
    r"^[\s:]*(?:\([^()]{0,40}\)\s*)?(?:(?:performance\s+)?(?:status|score|grade|PS|class)\s*)?(?:of\s+|[:=]\s*)?"
    r"(?P<vals>\d{1,3}(?:\.\d+)?(?:\s*(?:,|or|and|-|–|to)\s*\d{1,3}(?:\.\d+)?)+|\d{1,3}(?:\.\d+)?\b(?!\s*[%./]))",
    re.I)
# Tests and imaging named as the way something is found ("Chest radiography shows heart failure",
# "nodule on a recent CT", "confirmed by biopsy"): the finding is the criterion, not having had the test.
_MODALITY_BEFORE = re.compile(r"\b(?:on|by|at|via|using|from|in|per|with|as\s+(?:evaluated|assessed|seen|shown|measured|"
                              r"determined|documented|confirmed)\s+(?:by|on|with))\s+(?:a\s+|an\s+|the\s+)?"
                              r"(?:\w+\s+){0,2}$", re.I)
_MODALITY_AFTER = re.compile(r"^\W{0,3}(?:\w+\W+){0,1}(?:shows?|showing|shown|reveals?|revealing|revealed|demonstrat\w*|"
                             r"indicat\w*|suggest\w*|finding\w*|abnormalit\w*|evidence|confirm\w*|proven|documented)\b", re.I)
_NEG_TEST_BEFORE = re.compile(r"\bnegative\s+$", re.I)
_NEG_TEST_FOR = re.compile(r"\b(?:negative\s+(?:\w+\s+)?(?:tests?|testing|screen(?:ing)?|serology|results?)|"
                           r"tested\s+negative|test(?:s|ed)?\s+(?:is\s+|was\s+)?negative)\s+for\s+$", re.I)
_TEST_AFTER = re.compile(r"\s*(?:skin\s+|blood\s+|serum\s+)?(?:tests?|testing|screen(?:ing)?|serology)\b", re.I)
_QUALIFIER_GAP = re.compile(r"^\s*(?:\(|of|with|:|,)?\s*(?:more\s+than|greater\s+than|less\s+than|over|above|below)?\s*$", re.I)
_CLAUSE_END = re.compile(r"[;]|\.(?:\s|$)")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3}
_WORD = re.compile(r"[a-z]+")
_FILLER_DATA = json.loads(resources.files(__package__).joinpath("filler_words.json").read_text("utf-8"))
_FILLER = frozenset(_FILLER_DATA["words"])
# Criteria that only ask for consent or compliance restate it in many words ("willing and able to comply
# with all study procedures"); those words are not further requirements.
_AGREEMENT_FILLER = _FILLER | frozenset(_FILLER_DATA["agreement_words"])
_AGREEMENT = {"consent", "compliance"}
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}
_GRADE = re.compile(
    r"\b(?:CTCAE\s+)?grade\s*(?:(?P<lo>[1-5]|IV|I{1,3}|V)(?:\s*(?:-|to|or)\s*(?P<hi>[2-5]|IV|I{1,3}|V)\b)?"
    r"(?:\s*(?P<ge>or\s+(?:worse|higher|greater|above|more)|\+|and\s+(?:above|higher))|(?P<gt>\s*>))?"
    r"|(?:>=|≥|=>)\s*(?P<cmp_n>[1-5]))", re.I)
# Doses, not concentrations: "mg", "mg/day", "mg/kg/d", "mg/m^2", "IU/week" (but not "mg/dL", "mg/g").
_DOSE_UNIT = re.compile(r"^(?:[munpk]?g|IU|U|units?|mL)(?:/(?:kg|m\^?2|day|d|week|wk|month|dose|h|hour|min)\b.*)?$",
                        re.I)
_AGE_LABEL = re.compile(r"\s*age\b", re.I)
# "Under 65 years:", "65 years and over:" over sub-items: an age group's label ("years" alone is not
# enough to make a number an age elsewhere: "smoking more than 1 year").
_AGE_GROUP = re.compile(r"^\W*(?:(?:under|over|below|above|younger\s+than|older\s+than|less\s+than|more\s+than|[<>≤≥])"
                        r"\s*\d{1,3}\s*years?|\d{1,3}\s*years?\s+(?:and|or)\s+(?:over|older|above|under|younger|below))"
                        r"(?:\s+(?:of\s+age|old))?\s*:\s*$", re.I)
_NEXT_LABEL = re.compile(r"\b[A-Z][A-Za-z]+(?:\s+[a-z]+){0,3}\s*:")
# A label over sub-items: "Hematopoietic:", "Patients must have:", "Prior Medication:".
_HEADING = re.compile(r"^[^.;:]{1,80}:\s*$")
# Says nothing checkable: legacy NCI placeholders and pointers to other sections.
_NOTE = re.compile(r"^\W*(?:not\s+specified|none|n/?a|not\s+applicable|see\s+(?:disease|patient|general|above|below|"
                   r"inclusion|exclusion)\b[^.]*|please\s+contact\s+(?:the\s+)?(?:site|study)[^.]*|"
                   r"(?:no\s+)?other\s+criteria|no\s+restrictions?|unspecified|see\s+text)\W*$", re.I)



def parse_criteria(text: str | None) -> list[Criterion]:
    """Split and parse a whole eligibility text; children follow their parent in the list."""
    out: list[Criterion] = []

    def walk(item: CriterionItem, parent: int | None) -> None:
        idx = len(out)
        label = out[parent].text if parent is not None else ""
        c = parse_item(item, idx, parent, age_label=bool(_AGE_LABEL.match(label)))
        if item.children and c.section == "exclusion" and c.min_count is None:
            c = c.model_copy(update={"min_count": 1})  # listed exclusions: any one of them excludes
        out.append(c)
        for child in item.children:
            walk(child, idx)

    for item in split_criteria(text):
        walk(item, None)
    return out


def parse_item(item: CriterionItem, idx: int = 0, parent: int | None = None, *,
               age_label: bool = False) -> Criterion:
    """One item; ``age_label`` says it sits under an "Age:" heading, where "18 and over" is an age."""
    section = item.kind if item.kind in ("inclusion", "exclusion") else "unknown"
    role, logic, min_count, facts, leftover = _parse_text(item.text, section, bool(item.children), age_label)
    return Criterion(id=idx, section=section, text=item.text, start=item.start, end=item.end, parent=parent,
                     role=role, logic=logic, min_count=min_count, facts=facts, leftover=leftover)


# Registries repeat themselves ("Not specified", "Signed informed consent", NCI sub-headings): about
# 38% of the legacy sample's items are repeats, so parses are cached by text. Facts are immutable.
@lru_cache(maxsize=65536)
def _parse_text(text: str, section: str, has_children: bool, age_label: bool
                ) -> tuple[str, str, int | None, tuple[Fact, ...], int]:
    norm = normalize_text(text)
    facts = demographic_facts(norm, age_label_end=_age_label_end(norm, age_label, group=has_children))
    found = mentions(norm)
    if any(h in norm for h in _HEADS):
        found = _elided(norm, found)
    # "BMI > 27" near "adults" is a BMI limit, not an age: a bound right after a lab or score is its own.
    facts = [f for f in facts if f.kind != "age" or not any(
        m.kind in ("lab", "score") and m.end <= f.start and not norm[m.end:f.start].strip(" :=(") for m in found)]
    ages = [f for f in facts if f.kind == "age"]
    windows = [w for w in find_windows(norm) if not any(a.start < w.end and w.start < a.end for a in ages)]
    thresholds = [t for t in find_thresholds(norm) if (t.unit or "") not in _TIME_UNITS
                  and not _inside(t, windows) and not _inside(t, [f for f in facts if f.kind == "age"])]
    low = norm.lower()
    exceptions = _exception_spans(norm) if any(w in low for w in _EXCEPT_WORDS) else []
    facts += [washout(f, norm) for f in _concept_facts(norm, low, found, thresholds, windows, exceptions)]
    # "Known allergy to the study drug or its excipients": an allergy to something the lexicon doesn't
    # name is not any allergy (allergic rhinitis would exclude). A record with no allergies settles it.
    facts = [f.model_copy(update={"qualifier": "specific"}) if f.concept == "allergy" and not f.qualifier
             and _ALLERGY_TO.match(norm, f.end) else f for f in facts]
    facts.sort(key=lambda f: f.start)
    if section == "exclusion":
        facts = restated_exclusions(norm, facts)
    role = "criterion"
    if facts and (kept := not_excluding(norm, facts)) is not facts:
        facts, role = kept, ("criterion" if kept else "note")  # nothing left: it only says what doesn't exclude
    if (permitted := permission(norm, facts)) is not None:
        role = "note" if permitted == "note" else role
        facts = []
    if is_label(norm, low, facts):
        role, facts = "heading", []
    logic, min_count = _logic(norm, section, facts)
    if has_children and facts and norm.rstrip().endswith(":") and all(f.kind in ("age", "sex") for f in facts):
        logic = "if"  # "Age 65-70 years:" over "Karnofsky 80-100%": a rule for that group only
    if not facts and role == "criterion":
        if _NOTE.match(norm):
            role = "note"
        elif _HEADING.match(norm) and (has_children or len(norm) < 40) and min_count is None:
            # (with a count it is a group: "At least one of the following:" holds when one child does)
            role = "heading"
    covered = bytearray(len(low))
    for s, e in [(f.start, f.end) for f in facts] + [(t.start, t.end) for t in thresholds] + \
            [(w.start, w.end) for w in windows] + exceptions:
        covered[s:e] = b"\x01" * (e - s)
    filler = _AGREEMENT_FILLER if facts and all(f.kind in _AGREEMENT for f in facts) else _FILLER
    leftover = sum(1 for w in _WORD.finditer(low) if not covered[w.start()] and w.group() not in filler)
    return role, logic, min_count, tuple(facts), leftover


_HEADS = ("disease", "disorder", "impairment", "failure", "insufficiency", "dysfunction")
_CONJUNCTS = re.compile(r"((?:[A-Za-z]+\s*(?:,|/)\s*)*[A-Za-z]+\s*,?\s*(?:and/or|and|or|/)\s*)$", re.I)


def _elided(text: str, found: list[Mention]) -> list[Mention]:
    """"Renal or hepatic disease", "heart, lung, kidney, liver, or bleeding disorder": each word of a list
    before "<word> disease" names "<that word> disease" when the lexicon knows that phrase."""
    lex, extra = lexicon(), []
    for m in found:
        words = text[m.start:m.end].split()
        if m.kind != "condition" or len(words) != 2 or words[1].lower().rstrip("s") not in _HEADS:
            continue
        head = words[1].lower()
        lst = _CONJUNCTS.search(text, max(0, m.start - 80), m.start)
        if not lst:
            continue
        for w in re.finditer(r"[A-Za-z]+", lst.group(1)):
            if w.group().lower() in ("and", "or") or any(o.start <= lst.start(1) + w.start() < o.end for o in found):
                continue
            hit = lex.longest([w.group().lower(), head])
            if hit and hit[0][0] == "condition" and hit[0][2:] == (0, 2):
                start = lst.start(1) + w.start()
                extra.append(Mention(hit[0][0], hit[0][1], start, start + len(w.group()), m.negated, m.historical,
                                     m.hypothetical, m.family))
    return sorted(found + extra, key=lambda x: x.start) if extra else found


def _age_label_end(text: str, under_label: bool, group: bool = False) -> int:
    """Where the "Age:" part of a text ends: legacy records run labels together on one line
    ("Age: 18 and over Performance status: ECOG 0-2 ..."). ``group``: the text heads sub-items, so
    "Under 65 years:" is an age group's label (in a flat list it would bind nothing: left a heading)."""
    if group and _AGE_GROUP.match(text):
        return len(text)
    if not (under_label or _AGE_LABEL.match(text)):
        return 0
    nxt = _NEXT_LABEL.search(text, 4)
    return nxt.start() if nxt else len(text)


def _inside(t: RawThreshold, spans: Iterable) -> bool:
    return any(s.start <= t.start < s.end for s in spans)


def _exception_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _EXCEPT.finditer(text):
        opened = text.rfind("(", 0, m.start())
        if opened > text.rfind(")", 0, m.start()):
            close = text.find(")", m.end())
            end = close if close >= 0 else len(text)
        else:
            stop = re.compile(r"[;)]|\.(?:\s|$)|,\s+(?:treated|untreated|within|in\s+the|or\s+any|and\s+any)").search(
                text, m.end())
            end = stop.start() if stop else len(text)
        spans.append((m.start(), end))
    return spans


def _clause(text: str, pos: int) -> tuple[int, int]:
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, pos)), default=0)
    nxt = _CLAUSE_END.search(text, pos)
    return start, nxt.start() if nxt else len(text)


def _concept_facts(text: str, low: str, found: list[Mention], thresholds: list[RawThreshold], windows: list[Window],
                   exceptions: list[tuple[int, int]]) -> list[Fact]:
    lex = lexicon()
    examples = [(x.start(), x.end()) for x in _EXAMPLES.finditer(text)]
    found = [m for m in found if not any(s <= m.start < e and any(f.end <= s for f in found) for s, e in examples)]
    found = [m for m in found if not _modality(text, m, found)]
    # "Negative tuberculin skin test", "negative test for hepatitis B": the condition is absent.
    found = [replace(m, negated=True) if m.kind == "condition" and not m.negated and (
             (_NEG_TEST_BEFORE.search(text, max(0, m.start - 12), m.start) and _TEST_AFTER.match(text, m.end))
             or _NEG_TEST_FOR.search(text, max(0, m.start - 40), m.start)) else m for m in found]
    found = without_labels(text, found)
    main = [m for m in found if not any(s <= m.start < e for s, e in exceptions)]
    indicated = indications(text, low, main)
    main = [m for m in main if m not in indicated.values()]
    excepted = [m for m in found if m not in main]
    owned: dict[int, list[Threshold]] = {i: [] for i in range(len(main))}
    measurable = [i for i, m in enumerate(main) if m.kind in _MEASURABLE]
    loose: list[RawThreshold] = []
    for t in thresholds:
        owner = next((i for i in reversed(measurable) if main[i].end <= t.start), None)
        if owner is not None and _clause(text, main[owner].end)[1] >= t.start:
            owned[owner].append(_threshold(t))
        else:
            loose.append(t)
    # "more than 10 mg prednisone", ">= 20 mg/day of prednisone": a dose just before a drug is its dose.
    for t in thresholds:
        if t.unit and _DOSE_UNIT.match(t.unit):
            nxt = next((i for i in measurable if main[i].start >= t.end), None)
            if nxt is not None and main[nxt].kind in ("drug", "drug_class") and \
                    _DOSE_BEFORE_GAP.fullmatch(text, t.end, main[nxt].start) and (dose := _threshold(t)) not in owned[nxt]:
                owned[nxt].insert(0, dose)
                if t in loose:
                    loose.remove(t)
    # "CD4 >= 150 and <= 500 cells/mm3": a bound written without a unit takes the next bound's unit.
    for ths in owned.values():
        for k in range(len(ths) - 2, -1, -1):
            if ths[k].unit is None and ths[k].relative_to is None and ths[k + 1].unit:
                ths[k] = ths[k].model_copy(update={"unit": ths[k + 1].unit})
    # "AST or ALT > 2.5 x ULN", "AST/ALT": the first of a joined pair shares the second's limits.
    for i in range(len(main) - 2, -1, -1):
        a, b = main[i], main[i + 1]
        if not owned[i] and owned[i + 1] and a.kind == b.kind and _JOIN.match(text[a.end:b.start]):
            owned[i] = list(owned[i + 1])
    facts = []
    seen: set[tuple] = set()
    for i, m in enumerate(main):
        th = tuple(owned[i])
        if m.kind in ("drug", "drug_class"):
            th = tuple(t for t in th if t.unit and _DOSE_UNIT.match(t.unit))  # "ACE inhibitor ... > 500" is not a dose
        if m.kind == "score" and not th:
            th = _score_values(text, m)
        clause = _clause(text, m.start)
        if m.kind == "condition":
            th = _grades(text, m, clause)
            # "Hypertension of > 170/100 mm Hg": a limit right after a condition qualifies it (its severity)
            th = th or tuple(_threshold(t) for t in loose
                             if m.end <= t.start <= m.end + 12 and _QUALIFIER_GAP.match(text[m.end:t.start]))
        if m.kind in ("lab", "score") and not th:
            continue  # a lab named without a limit ("liver function tests") is not checkable
        concept = lex.get(m.kind, m.concept)
        window = (next((w for w in windows if m.end <= w.start < clause[1]), None)
                  or next((w for w in reversed(windows) if clause[0] <= w.start and w.end <= m.start), None))
        if asks_nothing(text, low, m, clause, limited=bool(th) or window is not None):
            continue
        key = (m.kind, m.concept, m.negated, m.historical, m.hypothetical, m.family)
        if not th and window is None and key in seen:
            continue  # "cystic fibrosis (CF) ... manifestation of CF": one fact is enough
        seen.add(key)
        exc = tuple(dict.fromkeys(x.concept for x in excepted
                                  if any(s <= x.start < e and s >= m.end for s, e in exceptions)))
        dose_change = bool(m.kind in ("drug", "drug_class") and ("dos" in text or "regimen" in text) and
                           _DOSE_CHANGE.search(text, clause[0], m.end + 40 if m.end + 40 < clause[1] else clause[1]))
        if concept and concept.data.get("unit"):
            th = tuple(_normalized(t, concept.data["unit"], concept.data.get("molar_mass")) for t in th)
        qualifier = condition_qualifier(text, low, m, clause) if m.kind == "condition" else (
            "indication" if m.start in indicated else exposure_qualifier(text, low, m, clause))
        facts.append(Fact(
            kind=m.kind, concept=m.concept, codes=concept.codes if concept else {}, text=text[m.start:m.end],
            start=m.start, end=m.end, thresholds=th, window=window, exceptions=exc, negated=m.negated,
            historical=m.historical, hypothetical=m.hypothetical, family=m.family, dose_change=dose_change,
            qualifier=qualifier))
    if sum(f.kind == "condition" for f in facts) >= 2:
        # "ILD/pneumonitis that required steroids, or current ILD": the steroids only qualify the conditions;
        # on their own in an any-of list they would exclude everyone taking them.
        facts = [f for f in facts if not (f.kind in EXPOSURES and _NEEDS.search(text, max(0, f.start - 25), f.start))]
    if any(f.qualifier == "allergy" for f in facts):
        # "hypersensitivity to penicillins" names its drugs: the bare "hypersensitivity" would count any allergy
        facts = [f for f in facts if not (f.kind == "condition" and f.concept in ("allergy", "drug allergy"))]
    return facts


def _modality(text: str, m: Mention, found: list[Mention]) -> bool:
    """A test named only as the means of finding something else in the same criterion."""
    test = lexicon().get("procedure", m.concept) if m.kind == "procedure" and not m.negated else None
    if test is None or not test.data.get("diagnostic"):
        return False
    others = [o for o in found if o is not m and o.kind in ("condition", "lab", "score")]
    if not others and not re.search(r"\b(?:abnormalit\w*|findings?|lesions?|nodules?|mass(?:es)?|shows?|showing|"
                                    r"reveal\w*|positive|negative|evidence)\b", text, re.I):
        return False
    return bool(_MODALITY_BEFORE.search(text, max(0, m.start - 40), m.start)
                or _MODALITY_AFTER.match(text[m.end:m.end + 40])
                or re.search(r"-?(?:proven|confirmed|documented)\b", text[m.end - 10:m.end + 12], re.I))


def _grades(text: str, m: Mention, clause: tuple[int, int]) -> tuple[Threshold, ...]:
    """"grade 3 or worse neuropathy", "neuropathy of grade >= 2", "grade 3-4 toxicity": a severity bound."""
    for g in _GRADE.finditer(text, max(clause[0], m.start - 30), min(clause[1], m.end + 30)):
        lo, hi = g.group("lo") or g.group("cmp_n"), g.group("hi")
        value = float(_ROMAN.get(lo.upper(), lo))
        if hi:
            return (Threshold(op="between", value=value, high=float(_ROMAN.get(hi.upper(), hi)), unit="grade",
                              start=g.start(), end=g.end()),)
        op = ">" if g.group("gt") else (">=" if g.group("ge") or g.group("cmp_n") else "=")
        return (Threshold(op=op, value=value, unit="grade", start=g.start(), end=g.end()),)
    return ()


def _normalized(t: Threshold, unit: str, molar_mass: float | None) -> Threshold:
    target = normalize_unit(unit) or unit
    if t.unit is None or t.relative_to:
        return t
    try:
        value = convert(t.value, t.unit, target, molar_mass)
        high = convert(t.high, t.unit, target, molar_mass) if t.high is not None else None
    except (UnitError, ValueError):
        return t  # e.g. "cells" for a lab kept in 1e9/L without a volume: leave it as written
    return t.model_copy(update={"norm_value": round(value, 6), "norm_high": None if high is None else round(high, 6),
                                "norm_unit": target})


def _threshold(t: RawThreshold) -> Threshold:
    return Threshold(op=t.op, value=t.value, high=t.high, unit=t.unit, relative_to=t.relative_to, sex=t.sex,
                     scale_max=t.scale_max, alternative=t.alternative, start=t.start, end=t.end)


def _score_values(text: str, m: Mention) -> tuple[Threshold, ...]:
    """"ECOG 0-1", "ECOG performance status of 0, 1 or 2", "CDASI 12": allowed values without an operator."""
    hit = _SCORE_VALUES.match(text, m.end)
    if not hit:
        return ()
    raw = hit.group("vals")
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", raw)]
    start, end = hit.start("vals"), hit.end("vals")
    if len(nums) == 1:
        return (Threshold(op="=", value=nums[0], start=start, end=end),)
    if re.search(r"-|–|\bto\b", raw) and len(nums) == 2:
        return (Threshold(op="between", value=min(nums), high=max(nums), start=start, end=end),)
    return (Threshold(op="in", value=min(nums), values=tuple(nums), start=start, end=end),)


def _logic(text: str, section: str, facts: list[Fact]) -> tuple[str, int | None]:
    """How facts combine, and how many children must hold ("any 1 of the following"; None = all).
    Exclusions default to "any": a patient meeting any listed finding is excluded, which is also the
    cautious reading when the wording is unclear."""
    m = _ANY_OF.search(text) if "following" in text else None
    min_count = (int(_NUMBER_WORDS.get(m.group("n").lower(), m.group("n"))) if m.group("n") else 1) if m else None
    if section == "exclusion":
        # "chest pain in combination with positive tests for ischemia": both together, not either one;
        # "pregnant women affected by thalassemia": the population and its condition together.
        # A sex named with one other finding is the population it applies to ("women who don't speak French").
        together = bool(_TOGETHER.search(text)) or (len(facts) == 2 and bool(_CAUSE.search(text) or (
            facts[0].kind == "condition" and facts[1].kind in EXPOSURES and _NEEDS.search(text)))) or (
            len(facts) == 2 and facts[0].kind in ("pregnancy", "sex") and facts[1].kind not in ("pregnancy", "sex")
            and (facts[0].kind == "sex" or bool(_QUALIFIED.match(text))) and facts[1].kind not in _POPULATION - {"age"})
        return ("all" if together else "any"), min_count
    concepts = [f for f in facts if f.kind not in ("consent", "compliance", "contraception", "language")]
    if len(concepts) > 1 and any(_OR.search(text, a.end, b.start) for a, b in zip(concepts, concepts[1:])):
        return "any", min_count
    return "all", min_count
