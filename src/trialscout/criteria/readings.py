"""How a concept reads in its criterion, beyond "the patient has it".

A lexicon match says which concept a criterion names; the words around it say what is asked about
it. These readers turn those words into a fact's ``qualifier``, drop mentions that ask nothing, or
rewrite a fact, so that matching neither demands what a criterion only mentions nor settles what a
record cannot show:

- qualifiers a bare diagnosis does not show: "uncontrolled", "severe", "symptoms of", "other/second",
  "familial" (``qualifier``);
- what a treatment was for ("no prior chemotherapy for breast cancer"), what the patient reacts to
  ("hypersensitivity to penicillins"), what a treatment left behind ("toxicities from prior therapy");
- labels ("Chemotherapy:", "Radiotherapy: Not specified"), permissions ("Prior radiotherapy allowed"),
  caps ("no more than 2 prior regimens"), another study's topic ("trial in the COPD network");
- washouts ("at least 4 weeks since prior chemotherapy": none in the last 4 weeks).

Each reader checks cheap cue words before running its pattern: most criteria have none of them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .model import Fact
from .nlp import Mention

# Kinds a patient is exposed to, and kinds a label can name.
EXPOSURES = frozenset({"drug", "drug_class", "procedure", "vaccine"})
LABEL_KINDS = EXPOSURES | {"condition", "device"}
_LABEL_WORDS = frozenset({"therapy", "therapies", "treatment", "treatments", "prior", "concurrent", "medication",
                          "medications", "history", "other"})
_WORD = re.compile(r"[a-z]+")

# --- qualifiers of a condition -----------------------------------------------------------------------
_SEVERE_WORDS = (r"(?P<q>uncontroll(?:ed|able)|poorly[\s-]+controlled|not\s+(?:well[\s-]+)?controlled|severe|clinically\s+"
                 r"significant|significant|unstable|decompensated|symptomatic|serious|refractory|life[\s-]+threatening|"
                 r"end[\s-]+stage|advanced|bilateral|contralateral|familial|hereditary|congenital|secondary|(?<!or\s)(?<!and\s)symptoms\s+of)\s+")
_SEVERE_CUES = ("control", "sever", "signific", "stable", "compensat", "sympto", "serious", "refract", "threat",
                "stage", "advanc", "major", "lateral", "famil", "heredit", "congenit", "second", "other", "another", "additional")
# Up to two words may sit between ("severe chronic heart failure") but no list break ...
# "Major" narrows a concept ("major psychiatric disorder") unless it is part of its name ("major depressive
# disorder", "major bleeding").
_MAJOR = re.compile(r"(?P<q>major)\s+", re.I)
_SEVERITY = re.compile(rf"\b(?:{_SEVERE_WORDS}|(?P<major>major)\s+)(?:(?!or\b|and\b)[a-z-]+\s+){{0,2}}$", re.I)
# ... except over a whole list: "uncontrolled renal, hepatic, hematological, ..., or cardiac disease".
_SEVERITY_LIST = re.compile(r"\b(?P<q>uncontrolled|poorly[\s-]+controlled|severe|clinically\s+significant|significant|"
                            r"unstable|decompensated|serious)\s+(?=[^.;]*(?:,|\bor\b|\band\b))"
                            r"(?:[a-z/-]+,?\s+){1,12}$", re.I)
# The lexicon knows some qualified phrases whole ("uncontrolled hypertension", "second malignancy").
_INSIDE = re.compile(_SEVERE_WORDS + r"|(?P<o>other|another|additional|second)\s+", re.I)
# "no other (prior) malignancy", "second primary cancer"; not "second remission of AML"
_MODIFIER = r"(?:prior|previous|active|concurrent|current|primary|invasive|known|serious|significant|major|chronic|malignant)"
# "no other prior or concurrent malignancy" (the lexicon may read "concurrent malignancy" whole)
_OTHER = re.compile(rf"\b(?P<q>other|another|additional|second)\s+(?:{_MODIFIER}\s+(?:(?:or|and|and/or)\s+)?)"
                    r"{0,2}$", re.I)
# "Hypertension that can not be well controlled through antihypertensive drugs"
_UNCONTROLLED_AFTER = re.compile(r"\s*,?\s*(?:that|which)?\s*(?:is|are|can|could)?\s*(?:not|n't|cannot|can\s+not)\s+"
                                 r"(?:be\s+)?(?:well\s+|adequately\s+|sufficiently\s+)?controlled", re.I)

# --- what an exposure is about -----------------------------------------------------------------------
# "Known hypersensitivity to penicillins, cephalosporins or sulbactam"; "contraindication to heparin"
_REACTION = re.compile(r"\b(?P<q>hypersensitiv\w*|allerg\w*|intoleran\w*|anaphyla\w*|contraindicat\w*)"
                       r"(?:\s+reactions?)?\s+(?:to|with|against|of)\b[^.;]*$", re.I)
_REACTION_CUES = ("sensitiv", "allerg", "intoleran", "anaphyla", "contraindic")
# "Unresolved toxicities from previous anticancer therapy": what the treatment left behind is asked about.
_AFTERMATH = re.compile(r"\b(?:toxicit\w*|adverse\s+(?:events?|reactions?|effects?)|side[\s-]+effects?|complications?)\s+"
                        r"(?:from|of|due\s+to|related\s+to|associated\s+with|attributed\s+to|caused\s+by)\b[^.;]*$", re.I)
_AFTERMATH_CUES = ("toxic", "adverse", "side effect", "side-effect", "complication")
# "Eligible for a curative autologous transplant", "scheduled for surgery": a plan, not a past exposure.
_PLANNED = re.compile(r"\b(?:eligible|candidates?|scheduled|planned|planning|awaiting|listed|referred)\s+(?:for|to\s+(?:undergo|"
                      r"receive|have))\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,3}$", re.I)
_PLANNED_CUES = ("eligible", "candidate", "schedul", "plann", "await", "listed", "referr")
# "A condition for which influenza vaccine is recommended": the vaccine names the condition asked about.
_FOR_WHICH = re.compile(r"\bfor\s+which\s+(?:an?\s+|the\s+)?$", re.I)
_RECOMMENDED = re.compile(r"\s+(?:is|are|would\s+be)\s+(?:\w+\s+)?(?:recommended|indicated|required|needed|advised)\b", re.I)
# "No prior chemotherapy for breast cancer": the cancer is what the chemotherapy was for.
_FOR = re.compile(r"\s+(?:given\s+)?(?:for|to\s+treat)\s+(?:the\s+|this\s+|that\s+|any\s+|their\s+|his\s+|her\s+)?"
                  r"(?:[a-z-]+\s+){0,2}$", re.I)
_TREATED_FOR = re.compile(r"\b(?:therap(?:y|ies)|treatments?|surgery|irradiation|radiation|regimens?)\s+"
                          r"(?:given\s+)?for\s+(?:the\s+|this\s+|that\s+|any\s+|their\s+|his\s+|her\s+)?(?:[a-z-]+\s+){0,2}$",
                          re.I)
# "No more than 2 prior chemotherapy regimens": a cap that no exposure at all also meets
_UPPER_BOUND = re.compile(r"\b(?:no|not)\s+(?:more|greater|longer)\s+than\b|\bat\s+most\b|\bmaximum\s+(?:of\s+)?\d|"
                          r"\bup\s+to\s+\d|\b(?:fewer|less)\s+than\s+\d|[<≤]\s*\d", re.I)
_UPPER_CUES = ("than", "most", "maximum", "up to", "<", "≤")
# "another clinical trial in the COPD network": the other study's topic, not the patient's
_STUDY_OF = re.compile(r"\b(?:trials?|study|studies|network|registry)\s+(?:[\w-]+\s+){0,3}?(?:of|in|for|on)\s+"
                       r"(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}$", re.I)
_STUDY_CUES = ("trial", "stud", "network", "registry")
_SINCE = re.compile(r"\b(?:since|elapsed)\b", re.I)

# --- labels and permissions --------------------------------------------------------------------------
# "Biologic therapy: Not specified Chemotherapy: Not specified ..." (labels run together on one line),
# "Radiotherapy: No prior pelvic irradiation": a label says nothing itself.
_LABEL_COLON = re.compile(r"\s*:\s*(?P<placeholder>not\s+specified|none\b|n/?a\b|unspecified|no\s+restrictions?|"
                          r"(?:prior\s+|concurrent\s+)?\w*\s*(?:allowed|permitted)|see\b)?", re.I)
# "Prior radiotherapy allowed": says what does NOT exclude. With a condition attached ("allowed if
# completed 4 weeks ago") it is a rule this parser cannot state: unparsed, never a requirement.
_PERMISSIVE = re.compile(r"\b(?:allowed|permitted|acceptable|(?:is|are|remain)\s+eligible)\b", re.I)
# ("X without Y allowed" permits X on a condition: "without" is not a negation of the permission)
_NEGATION_CUE = re.compile(r"\b(?:no|not|never|none|cannot|exclud\w*|prohibit\w*|unless)\b|n't\b", re.I)
_SENTENCE_BREAK = re.compile(r"[.;]\s+\S")  # one permissive sentence in a longer criterion says less
_CONDITIONAL = re.compile(r"\b(?:if|provided|as\s+long\s+as|only|must|but|except|without|other\s+than|after|more|less|least|"
                          r"maximum|minimum|up\s+to|within|since|until|when|stable|[<>≤≥]|\d)", re.I)


def condition_qualifier(text: str, low: str, m: Mention, clause: tuple[int, int]) -> str | None:
    """The word narrowing a condition mention to what a bare diagnosis does not show, canonical."""
    if not any(c in low for c in _SEVERE_CUES):
        return None
    q = (_INSIDE.match(text, m.start, m.end) or _SEVERITY.search(text, max(0, m.start - 50), m.start)
         or (None if "major" in m.concept.lower() else _MAJOR.match(text, m.start, m.end))
         or _OTHER.search(text, max(0, m.start - 50), m.start)
         or _SEVERITY_LIST.search(text, max(clause[0], m.start - 200), m.start)
         or _UNCONTROLLED_AFTER.match(text, m.end))
    if q is None:
        return None
    words = " ".join(next((g for g in q.groupdict().values() if g), "uncontrolled").lower().replace("-", " ").split())
    if "controll" in words:  # "poorly controlled", "uncontrollable"
        return "uncontrolled"
    if words.endswith(" of"):  # "symptoms of cardiac disease": a diagnosis alone doesn't say it has any
        return "symptomatic"
    return "other" if words in ("another", "additional", "second") else words


def exposure_qualifier(text: str, low: str, m: Mention, clause: tuple[int, int]) -> str | None:
    """"allergy", "contraindication", "aftermath", "planned" or "indication" when the drug or procedure is
    named as what the patient reacts to, what left effects behind, what is planned or what a condition
    calls for, rather than as something taken."""
    if m.kind not in EXPOSURES:
        return None
    start = max(clause[0], m.start - 120)
    if any(c in low for c in _AFTERMATH_CUES) and _AFTERMATH.search(text, start, m.start):
        return "aftermath"
    if any(c in low for c in _PLANNED_CUES) and _PLANNED.search(text, max(clause[0], m.start - 60), m.start):
        return "planned"
    if "which" in low and _FOR_WHICH.search(text, start, m.start) and _RECOMMENDED.match(text, m.end):
        return "indication"  # "a condition for which influenza vaccine is recommended": the condition is asked
    if m.kind == "procedure" or not any(c in low for c in _REACTION_CUES):
        return None
    r = _REACTION.search(text, start, m.start)
    return None if r is None else ("contraindication" if r.group("q").lower().startswith("contra") else "allergy")


def indications(text: str, low: str, found: list[Mention]) -> dict[int, Mention]:
    """Conditions named as what a treatment was for, under a negation ("no prior therapy for cervical
    cancer": usually the trial's own disease), keyed by the treatment mention's start (or -1 - the
    condition's start when the lexicon doesn't name the treatment). "Acute therapy for an
    opportunistic infection" does say the patient has the infection: not under a negation, so kept."""
    if " for " not in low and " to treat " not in low:
        return {}
    out = {a.start: b for a, b in zip(found, found[1:]) if b.kind == "condition" and b.negated
           and a.kind in EXPOSURES and _FOR.match(text, a.end, b.start)}
    out.update({-1 - m.start: m for m in found if m.kind == "condition" and m.negated and m not in out.values()
                and _TREATED_FOR.search(text, max(0, m.start - 60), m.start)})
    return out


def without_labels(text: str, found: list[Mention]) -> list[Mention]:
    """Drop a concept used as a label: "Chemotherapy: Not specified", or one its own content repeats."""
    if ":" not in text:
        return found
    out = []
    for m in found:
        colon = _LABEL_COLON.match(text, m.end) if m.kind in LABEL_KINDS else None
        if colon and ":" in colon.group() and (colon.group("placeholder") or any(
                o.start >= colon.end() and o.kind == m.kind and o.concept == m.concept for o in found)):
            continue
        out.append(m)
    return out


def asks_nothing(text: str, low: str, m: Mention, clause: tuple[int, int], limited: bool) -> bool:
    """A mention that is no requirement: another study's topic, or an exposure under a cap (``limited``:
    the fact has a dose limit or a window of its own, which the cap then belongs to)."""
    if m.kind == "condition":
        return any(c in low for c in _STUDY_CUES) and bool(_STUDY_OF.search(text, clause[0], m.start))
    return (m.kind in EXPOSURES and not limited and any(c in low for c in _UPPER_CUES)
            and bool(_UPPER_BOUND.search(text, clause[0], m.start)))


def washout(f: Fact, text: str) -> Fact:
    """"At least 4 weeks since prior chemotherapy" asks for no chemotherapy in the last 4 weeks, which a
    patient who never had any also meets; read as "at least 4 weeks of use" it would demand chemotherapy."""
    w = f.window
    if f.kind in EXPOSURES and w and w.relation == "at_least" and not f.negated and _SINCE.search(text, w.start, w.end):
        return f.model_copy(update={"negated": True, "window": w.model_copy(update={"relation": "within"})})
    return f


# "Tobacco smoking is not excluded", "(history of recent transfusion is not an exclusion)", "Mild
# dysarthria or drooling does not exclude": what the clause names before it does not exclude anyone.
_NOT_EXCLUDING = re.compile(r"\b(?:(?:is|are)\s+not\s+(?:an?\s+)?(?:exclusion(?:ary)?(?:\s+criteri(?:on|a))?|excluded)|"
                            r"will\s+not\s+be\s+excluded|(?:does|do)\s+not\s+exclude|not\s+exclusionary)\b"
                            r"(?!\s+(?:from|on|medications?|drugs?|therap\w*)\b)", re.I)
# A clause starts after "(" or a sentence's "." / ";" (not a decimal point: "8.0 g/dl").
_CLAUSE_BREAK = re.compile(r"\(|[.;](?=\s|$)")


def not_excluding(text: str, facts: list[Fact]) -> list[Fact]:
    """``facts`` without those a clause says do not exclude (``facts`` itself when there are none)."""
    spans = [(max((o.end() for o in _CLAUSE_BREAK.finditer(text, 0, m.start())), default=0), m.start())
             for m in _NOT_EXCLUDING.finditer(text)]
    if not spans:
        return facts
    return [f for f in facts if not any(s <= f.start < e for s, e in spans)]


# Under an exclusion heading, wording that restates the exclusion: "Concurrent corticosteroids are not
# allowed", "Patients with diabetes are excluded" (ConText reads these as negation, which is right under
# an inclusion heading), and an inclusion's wording in the exclusion list: "No ongoing opportunistic
# infection", "No patients with coagulopathy" (0.8% of the legacy sample's exclusions). Read as negated,
# everyone without the condition would be excluded and everyone with it let through.
_RESTATES_EXCLUSION = re.compile(r"\b(?:(?:is|are|will\s+be)\s+excluded|(?:(?:is|are)\s+)?not\s+(?:be\s+)?"
                                 r"(?:allowed|permitted)|(?:is|are)\s+prohibited)\b", re.I)
_LEADING_NO = re.compile(r"^\W*no\s", re.I)
_OTHER_NEGATION = re.compile(r"\b(?:not|never|without|none|nor|cannot|unable|den(?:y|ies|ied)|free\s+of|"
                             r"absence\s+of|lack\s+of)\b|n't\b", re.I)
_ANY_NEGATION = re.compile(rf"\bno\b|{_OTHER_NEGATION.pattern}", re.I)
# What an exclusion list names as a reason to exclude; "No written consent", "No contraception" there
# are real lacks.
_EXCLUDING_KINDS = {"condition", "drug", "drug_class", "procedure", "vaccine", "device", "pregnancy", "breastfeeding"}


def restated_exclusions(text: str, facts: list[Fact]) -> list[Fact]:
    """Exclusion facts negated only by wording that restates the exclusion, un-negated."""
    if _LEADING_NO.match(text):
        stop = m.start() if (m := _CLAUSE_BREAK.search(text)) else len(text)
        if not _OTHER_NEGATION.search(text, 0, stop):
            return [_affirmed(f) if f.negated and f.start < stop and f.kind in _EXCLUDING_KINDS else f
                    for f in facts]
    if not _RESTATES_EXCLUSION.search(text):
        return facts
    out = []
    for f in facts:
        if f.negated and f.kind in _EXCLUDING_KINDS and (m := _RESTATES_EXCLUSION.search(text, f.end)):
            opened = max((o.end() for o in _CLAUSE_BREAK.finditer(text, 0, f.start)), default=0)
            if not _CLAUSE_BREAK.search(text, f.end, m.start()) and not _ANY_NEGATION.search(text, f.end, m.start()) \
                    and not _ANY_NEGATION.search(text, opened, f.start):
                f = _affirmed(f)
        out.append(f)
    return out


def _affirmed(f: Fact) -> Fact:
    return f.model_copy(update={"negated": False})


def permission(text: str, facts: list[Fact]) -> str | None:
    """"note" for a criterion that only permits ("Prior radiotherapy allowed"), "unparsed" for a
    permission with a condition attached, None otherwise."""
    if not facts or not _PERMISSIVE.search(text) or _NEGATION_CUE.search(text) or _SENTENCE_BREAK.search(text) \
            or not all(f.kind in LABEL_KINDS for f in facts):
        return None
    return "unparsed" if _CONDITIONAL.search(text) else "note"


def is_label(text: str, low: str, facts: list[Fact]) -> bool:
    """"Chemotherapy:" over sub-items (or over the next items of a flat list), or an upper-case line such
    as "INCLUSION OF PREGNANT WOMEN:": a label, not a requirement."""
    if not facts or not text.rstrip().endswith(":"):
        return False
    if text.isupper():
        return True
    words = list(_WORD.finditer(low))
    return len(words) <= 4 and all(f.kind in LABEL_KINDS for f in facts) and all(
        w.group() in _LABEL_WORDS or any(f.start <= w.start() < f.end for f in facts) for w in words)


# --- alternatives ------------------------------------------------------------------------------------
_OPEN_LIST = re.compile(r"\b(?:(?P<following>(?:one\s+or\s+more|at\s+least\s+(?:one|1)|any\s+(?:one\s+)?)\s*(?:\(1\)\s*)?"
                        r"of\s+the\s+following)|one\s+or\s+more|at\s+least\s+(?:one|1)|any\s+(?:one\s+)?of|either|"
                        r"such\s+as|e\.\s?g\.|for\s+example|including)\b", re.I)


@lru_cache(maxsize=1 << 16)  # asked of every either/or criterion of every trial matched
def alternatives(text: str) -> tuple[bool, int | None]:
    """Whether a criterion says outright that it lists alternatives ("one or more risk factors, such as
    diabetes, smoking, obesity, ..."), and where a list "of the following" starts: what it names before
    that is required with one of them ("active SLE with at least one of the following: arthritis, ...")."""
    m = _OPEN_LIST.search(text)
    if not m:
        return False, None
    return True, (m.start() if m.group("following") else None)
