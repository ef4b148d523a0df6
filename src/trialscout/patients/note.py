"""Free-text patient notes (TrialGPT style "0. A 58-year-old woman ... 1. ...") -> Patient.

Concepts come from the criteria engine's lexicon and ConText (so "denies diabetes" is negated and
"family history of heart disease" is about a relative), values from its number and unit reader.
Work is capped: only the first ``MAX_CHARS`` of a note are read, in sentences of at most
``MAX_SENTENCE`` characters, so a 5 MB paste takes about as long as a 400 kB one.
"""

from __future__ import annotations

import datetime as dt
import re

from ..criteria.lexicon import lexicon
from ..criteria.nlp import Mention, mentions
from ..criteria.numbers import NUMBER_WORDS, normalize_text
from ..criteria.thresholds import _measure  # the criteria engine's number+unit reader: same parsing here
from .concepts import contradictions, frequency_of, normalize_value, scale_for
from .model import Patient, PatientFact, Provenance
from .reported import interpretation_near, panel_facts

__all__ = ["MAX_CHARS", "MAX_SENTENCE", "patient_from_note", "split_sentences"]

MAX_CHARS = 400_000
MAX_SENTENCE = 2_000
_MAX_FACTS = 2_000

_MARKER = re.compile(r"(?:^|(?<=\s))(\d{1,3})\.\s+(?=\S)")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n\s*\n|\n(?=\s*[-*\u2022])")


def _cap(label: str, start: int, chunk: str) -> list[tuple[str, int, str]]:
    """Long runs without sentence ends are cut at whitespace so each piece stays bounded."""
    out = []
    while len(chunk) > MAX_SENTENCE:
        cut = chunk.rfind(" ", MAX_SENTENCE // 2, MAX_SENTENCE)
        cut = cut if cut > 0 else MAX_SENTENCE
        out.append((label, start, chunk[:cut]))
        start, chunk = start + cut, chunk[cut:]
    out.append((label, start, chunk))
    return out


def split_sentences(text: str) -> list[tuple[str, int, str]]:
    """(label, offset, sentence). Numbered notes keep their own numbers ("0".."N", in sequence);
    otherwise sentences are numbered from 1."""
    marks: list[re.Match[str]] = []
    for m in _MARKER.finditer(text):
        expected = int(marks[-1].group(1)) + 1 if marks else None
        if (expected is None and int(m.group(1)) in (0, 1) and not text[:m.start()].strip()) or \
                (expected is not None and int(m.group(1)) == expected):
            marks.append(m)
    out: list[tuple[str, int, str]] = []
    if len(marks) >= 2:
        for k, m in enumerate(marks):
            end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
            out += _cap(m.group(1), m.end(), text[m.end():end])
        return [s for s in out if s[2].strip()]
    pos, n = 0, 0
    for m in [*_SENT_END.finditer(text), None]:
        end = m.start() if m else len(text)
        if text[pos:end].strip():
            n += 1
            out += _cap(str(n), pos, text[pos:end])
        pos = m.end() if m else len(text)
    return out


_AGE = re.compile(
    r"\b(\d{1,3}(?:\.\d)?)[\s-]{0,2}(year|yr|month|mo|week|wk|day)s?[\s-]{0,2}old\b"
    r"|\b(\d{1,3})\s?(?:yo|y/o|y\.o\.)(?!\w)|\baged?\s?:?\s?(\d{1,3})\b", re.I)
_PER_YEAR = {"year": 1, "yr": 1, "month": 12, "mo": 12, "week": 52, "wk": 52, "day": 365}
_SEX = re.compile(r"\b(?:(?P<f>woman|female|lady|girl)|(?P<m>man|male|gentleman|boy))\b"
                  r"|\b\d{1,3}\s?(?:yo|y/o|-year-old)?\s?(?:(?P<f2>F)|(?P<m2>M))\b", re.I)
_SHE, _HE = re.compile(r"\b(?:she|her|hers)\b", re.I), re.compile(r"\b(?:he|him|his)\b", re.I)
# Current pregnancy only: "ectopic pregnancy at age 26" or "women in different stages of pregnancy"
# are about the past or about others. "pregnancy test ... negative" is caught by _NEG_AFTER.
_PREG = re.compile(r"\b(?:is|am|currently|now|she\s+is)\s+pregnant\b|\bpregnant\b(?!\s+wom[ae]n)"
                   r"|\b\d+\s*(?:-\s*)?weeks?\s+(?:of\s+)?(?:gestation|pregnan)|\bgestational\s+age\b"
                   r"|\b(?:her\s+)?(?:first|second|third|fourth|current)\s+pregnancy\b|\bpregnancy\s+test\b", re.I)
_DELIVERED = re.compile(r"\b(?:gave|given|giving)\s+birth\b|\bpostpartum\b|\bpost-partum\b|\bdelivered\s+(?:a|her)\s+"
                        r"(?:healthy\s+)?(?:baby|child|infant|son|daughter)\b", re.I)
_BREAST = re.compile(r"\b(?:breast-?\s?feeding|lactating|nursing\s+(?:her|an?)\s+(?:infant|baby))\b", re.I)
_NEG_BEFORE = re.compile(r"\b(?:not|no|denies|denied|negative|never|nor|isn't|is\s+not)\b[^.;]{0,30}$", re.I)
_NEG_AFTER = re.compile(r"^[^.;]{0,60}\bnegative\b", re.I)
# "CK was elevated at 850 U/L", "platelets of 90", "ECOG: 1", "hemoglobin (Hb) of 9.0 g/dL": filler
# (and a bracketed abbreviation) allowed between name and value.
_GAP = re.compile(r"(?:\s?\([A-Za-z][\w-]{0,9}\)|\))?[\s:=,(]{0,4}(?:(?:is|was|were|are|of|at|level|levels|count|value|measured|score|"
                  r"elevated|increased|decreased|low|high|to|about|approximately|around|~)\b[\s:=,]{0,3}){0,4}",
                  re.I)
# thresholds' own "/150" reader refuses a scale followed by "." (a decimal guard), as at a sentence end.
_SCALE_AFTER = re.compile(r"[ \t]?/[ \t]?(\d{1,4}(?:\.\d{1,2})?)(?!\d|\.\d|/)")
_PER_DOSE = {"mg/day": ("mg", "daily"), "g/day": ("g", "daily"), "ug/day": ("ug", "daily"),
             "mg/week": ("mg", "weekly")}
_FACT_KIND = {"drug_class": "drug"}
# When something happened, relative to the note ("2 years earlier", "six months ago", "three weeks
# before", "at age 26"): the note is read as written on ``as_of``.
_NUM = r"(?:\d{1,3}(?:\.\d)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a\s+few)"
_AGO = re.compile(rf"\b(?P<n>{_NUM})\s+(?P<unit>year|yr|month|week|day|hour)s?\s+(?:ago|earlier|before|prior)\b"
                  rf"|\b(?P<last>last|previous)\s+(?P<unit2>year|month|week)\b"
                  rf"|\bat\s+(?:the\s+)?age\s+(?:of\s+)?(?P<age>\d{{1,3}})\b"
                  rf"|\b(?P<today>earlier\s+(?:today|this\s+morning|in\s+the\s+morning)|this\s+morning|yesterday)\b", re.I)
_DAYS = {"year": 365, "yr": 365, "month": 30, "week": 7, "day": 1, "hour": 0}
_FEW = {"a": 1, "an": 1, "several": 3, "a few": 3}


_Value = tuple[float, str | None, float | None, int]  # value, unit, scale_max, end offset


def _value_after(text: str, t: str, m: Mention, end: int, score: bool) -> _Value | None:
    gap = _GAP.match(t, m.end, end)
    p = gap.end() if gap else m.end
    if p >= end or not (t[p].isdigit() or (t[p] == "." and p + 1 < end and t[p + 1].isdigit())):
        return None
    q = _measure(t, text, p, end, signed=False)
    if q is None or q.relative_to is not None or q.diastolic is not None:
        return None  # "3 x ULN" and blood pressure pairs are not a single measured value
    if not score:
        return None if q.scale_max is not None else (q.value, q.unit, None, q.end)
    if q.scale_max is None and q.unit is None and (sc := _SCALE_AFTER.match(t, q.end, end)):
        if float(sc.group(1)) > q.value:
            return q.value, None, float(sc.group(1)), sc.end()
    return q.value, q.unit, q.scale_max, q.end


def _when(sentence: str, start: int, end: int, as_of: dt.date, age: float | None) -> dt.date | None:
    """The date of a time expression in the mention's clause: the nearest one after it (up to the next
    mention's clause), else the nearest before it; None when the sentence gives no time."""
    best: tuple[int, dt.date] | None = None
    for m in _AGO.finditer(sentence):
        gap = m.start() - end if m.start() >= end else start - m.end()
        if gap < 0 or re.search(r"[;]|\band\s+(?:a|an|the)\b", sentence[min(end, m.start()):max(start, m.end())]):
            continue
        if m.group("today"):
            days = 1 if m.group("today").lower() == "yesterday" else 0
        elif m.group("age"):
            if age is None or not 0 <= int(m.group("age")) <= age:
                continue
            days = round((age - int(m.group("age"))) * 365)
        elif m.group("last"):
            days = _DAYS[m.group("unit2").lower()]
        else:
            n = m.group("n").lower()
            count = _FEW.get(re.sub(r"\s+", " ", n)) or NUMBER_WORDS.get(n) or float(n)
            days = round(count * _DAYS[m.group("unit").lower().rstrip("s")])
        date = as_of - dt.timedelta(days=days)
        rank = gap if m.start() >= end else gap + 1000  # a time after the mention is about it
        if best is None or rank < best[0]:
            best = (rank, date)
    return best[1] if best else None


def _body_temperature(value: float) -> tuple[float, str | None]:
    """A body temperature written without a unit: 33-43 can only be Celsius, 92-110 only Fahrenheit."""
    if 33 <= value <= 43:
        return value, "degC"
    if 92 <= value <= 110:
        return round((value - 32) * 5 / 9, 1), "degC"
    return value, None


def _age_sex(patient: Patient, sents: list[tuple[str, int, str]]) -> None:
    head = " ".join(s for _, _, s in sents[:3])
    for m in _AGE.finditer(head):
        if m.group(1):
            years = float(m.group(1)) / _PER_YEAR[m.group(2).lower()]
        else:
            years = float(m.group(3) or m.group(4))
        if 0 <= years <= 120:
            patient.age_years = round(years, 2)
            break
    if (s := _SEX.search(head)) is not None:
        patient.sex = "female" if (s.group("f") or s.group("f2")) else "male"
        return
    body = " ".join(s for _, _, s in sents[:20])
    she, he = len(_SHE.findall(body)), len(_HE.findall(body))
    if max(she, he) >= 2 and max(she, he) > 2 * min(she, he):
        patient.sex = "female" if she > he else "male"


# "The patient will provide informed consent, and will comply with the trial protocol"
_CONSENT = re.compile(r"\b(?:provide[sd]?|give[sn]?|gave|sign(?:s|ed)?|obtain(?:ed)?)\b[^.;]{0,30}\bconsent\b", re.I)
_COMPLY = re.compile(r"\b(?:comply|complies|compliant|adhere|follow)\b[^.;]{0,40}\b(?:protocol|study|trial|"
                     r"procedures|visits|schedule)\b", re.I)


def _flag(kind: str, rx: re.Pattern[str], sentence: str, prov: Provenance) -> PatientFact | None:
    m = rx.search(sentence)
    if m is None:
        return None
    negated = bool(_NEG_BEFORE.search(sentence[:m.start()]) or _NEG_AFTER.search(sentence[m.end():]))
    return PatientFact(kind=kind, text=m.group(), negated=negated, active=not negated,  # type: ignore[arg-type]
                       provenance=prov)


def _sentence_facts(label: str, sentence: str, problems: list[str], as_of: dt.date | None = None,
                    age: float | None = None) -> list[PatientFact]:
    prov = Provenance(source="note", ref=f"sentence {label}", text=sentence.strip()[:500])
    t = normalize_text(sentence)
    found = [m for m in mentions(sentence) if not m.hypothetical]
    facts = []
    for k, m in enumerate(found):
        end = found[k + 1].start if k + 1 < len(found) else len(sentence)
        end = min(end, m.end + 80)
        concept = lexicon().get(m.kind, m.concept)
        kind = "smoking" if m.concept == "tobacco use" else _FACT_KIND.get(m.kind, m.kind)
        value = unit = scale = frequency = None
        span_end = m.end
        v = _value_after(sentence, t, m, end, m.kind == "score") if m.kind in ("lab", "score", "drug") else None
        if v is not None:
            value, unit, scale, span_end = v
            if m.kind == "lab":
                value, unit = normalize_value(concept, value, unit)
                if unit is None and m.concept == "body temperature":
                    value, unit = _body_temperature(value)
                elif unit is None and concept is not None and concept.data.get("unit") == "1/min":
                    unit = "1/min"  # pulse and respiratory rate are only ever counted per minute
                if unit is None and concept is not None and concept.data.get("unit"):
                    problems.append(f"sentence {label}: {m.concept} value has no unit; unit unknown")
            elif m.kind == "score":
                scale = scale_for(concept, value, scale)
            else:
                unit, frequency = _PER_DOSE.get(unit or "", (unit, None))
        if m.kind in ("drug", "drug_class"):
            frequency = frequency or frequency_of(sentence[span_end:end])
        start = _when(sentence, m.start, m.end, as_of, age) if as_of and not m.family else None
        reported = interpretation_near(sentence, m.start, m.end) if m.kind == "lab" and value is None else None
        facts.append(PatientFact(
            kind=kind, concept=m.concept, text=sentence[m.start:span_end],  # type: ignore[arg-type]
            value=value, unit=unit, start=start, interpretation=reported,
            scale_max=scale, frequency=frequency, negated=m.negated, historical=m.historical,
            family=m.family, provenance=prov))
    facts += panel_facts(sentence, prov, {m.concept for m in found if m.kind == "lab"})
    for kind, rx in (("pregnancy", _PREG), ("breastfeeding", _BREAST), ("consent", _CONSENT),
                     ("compliance", _COMPLY)):
        if (f := _flag(kind, rx, sentence, prov)) is not None:
            facts.append(f)
    if not any(f.kind == "pregnancy" for f in facts) and (m := _DELIVERED.search(sentence)):
        # "she had given birth to a healthy child 3 weeks before": not pregnant now
        facts.append(PatientFact(kind="pregnancy", text=m.group(), negated=True, active=False, provenance=prov))
    return facts


def patient_from_note(text: str, source_name: str = "note", as_of: dt.date | None = None) -> Patient:
    """Demographics and facts stated in a free-text note; problems say what was not read. Relative times
    ("2 years ago") are dated from ``as_of`` (the day the note describes; default today)."""
    as_of = as_of or dt.date.today()
    patient = Patient()
    if not text or not text.strip():
        patient.problems.append(f"{source_name}: note is empty")
        return patient
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
        patient.problems.append(f"{source_name}: note is longer than {MAX_CHARS} characters; only the start was read")
    sents = split_sentences(text)
    _age_sex(patient, sents)
    seen: set[tuple] = set()
    problems: list[str] = []
    for label, _, sentence in sents:
        for f in _sentence_facts(label, sentence, problems, as_of, patient.age_years):
            # The same statement repeated adds nothing for matching; the first one is cited.
            key = (f.kind, f.concept or f.text.lower(), f.negated, f.historical, f.family, f.value, f.unit, f.start,
                   f.interpretation)
            if key not in seen:
                seen.add(key)
                patient.facts.append(f)
        if len(patient.facts) >= _MAX_FACTS:
            problems.append(f"{source_name}: more than {_MAX_FACTS} facts; the rest of the note was not read")
            break
    patient.problems += list(dict.fromkeys(problems)) + contradictions(patient.facts)
    return patient
