"""FHIR R4 (read with the R4B models, which accept R4 content for these resources) -> Patient.

Only the resource types that carry eligibility facts are validated and read; others in a Bundle are
skipped unread, so a Synthea bundle full of Claims neither slows this down nor fails on them.
Invalid content in a resource we read raises PatientInputError naming entry, resource and field;
readable-but-incomplete content (an Observation without a value, a unit we do not know) becomes a
line in ``patient.problems`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..criteria.lexicon import lexicon
from .concepts import (
    SYSTEMS, concept_for, contradictions, frequency_from_timing, frequency_of, normalize_value, partial_date,
    scale_for, scale_from_unit, unit_of,
)
from .errors import PatientInputError, describe_validation
from .model import Patient, PatientFact, Provenance

__all__ = ["patient_from_fhir"]

_READ = ("Patient", "Condition", "MedicationStatement", "MedicationRequest", "Medication", "Observation",
         "Procedure", "Immunization", "AllergyIntolerance")
_PREGNANCY_STATUS, _SMOKING_STATUS = "82810-3", "72166-2"
_NO_KNOWN_ALLERGY = {"716186003", "409137002", "429625007", "428607008", "428197003"}
# LOINC answer codes of the ECOG scale (LL529-9) -> grade.
_ECOG_ANSWERS = {"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4, "LA9627-6": 5}


def _model(name: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class  # ~0.3 s import, only when FHIR is read

    return get_fhir_model_class(name)


def _load(data: dict | str | bytes, source: str) -> dict:
    if isinstance(data, dict):
        return data
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        # JSONDecodeError's message gives the position only, never the content.
        raise PatientInputError(source, f"not JSON: {getattr(exc, 'msg', type(exc).__name__)}") from None
    if not isinstance(raw, dict):
        raise PatientInputError(source, f"expected a JSON object, got {type(raw).__name__}")
    return raw


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.facts: list[PatientFact] = []
        self.problems: list[str] = []
        self.by_ref: dict[str, Any] = {}  # "Medication/m1" and fullUrl -> validated resource

    def validate(self, where: str, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise PatientInputError(self.source, f"{where}: resource: expected an object")
        try:
            return _model(raw["resourceType"]).model_validate(raw)
        except Exception as exc:  # pydantic ValidationError, or fhir.resources' KeyError for contained types
            raise PatientInputError(self.source, f"{where}: {describe_validation(exc)}") from None

    def add(self, kind: str, concept: Any, text: str, codes: dict[str, str], ref: str, **kw: Any) -> None:
        self.facts.append(PatientFact(
            kind=kind, concept=concept.name if concept is not None else None, text=text, codes=codes,
            provenance=Provenance(source="fhir", ref=ref, text=text), **kw))


def _codes(cc: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for coding in (cc.coding or []) if cc is not None else []:
        if coding.code:
            out.setdefault(SYSTEMS.get(coding.system or "", coding.system or "code"), coding.code)
    return out


def _display(cc: Any) -> str | None:
    if cc is None:
        return None
    if cc.text:
        return cc.text
    for coding in cc.coding or []:
        if coding.display:
            return coding.display
    for coding in cc.coding or []:
        if coding.code:
            return coding.code
    return None


def _status(cc: Any) -> str | None:
    for coding in (cc.coding or []) if cc is not None else []:
        if coding.code:
            return coding.code
    return None


def _ref(res: Any) -> str:
    return f"{res.get_resource_type()}/{res.id}" if res.id else res.get_resource_type()


_ACTIVE = {"active": True, "recurrence": True, "relapse": True, "inactive": False, "remission": False,
           "resolved": False}


def _condition(r: _Reader, res: Any, ref: str) -> None:
    verification = _status(res.verificationStatus)
    if verification == "entered-in-error":
        return
    text = _display(res.code) or "(uncoded condition)"
    codes = _codes(res.code)
    _, concept = concept_for("condition", text, codes)
    active = _ACTIVE.get(_status(res.clinicalStatus) or "")
    end = partial_date(res.abatementDateTime) or partial_date(res.abatementPeriod and res.abatementPeriod.end)
    if active is None and (end or res.abatementString):
        active = False
    if verification in ("unconfirmed", "provisional", "differential"):
        r.problems.append(f"{ref}: diagnosis is {verification}, read as stated")
    r.add("condition", concept, text, codes, ref, active=active, negated=verification == "refuted",
          start=partial_date(res.onsetDateTime) or partial_date(res.onsetPeriod and res.onsetPeriod.start),
          end=end)


_MED_STATUS = {"active": True, "completed": False, "stopped": False, "cancelled": False}


def _medication(r: _Reader, res: Any, ref: str) -> None:
    if res.status == "entered-in-error":
        return
    cc = res.medicationCodeableConcept
    if cc is None and res.medicationReference is not None:
        target = (res.medicationReference.reference or "").strip()
        med = next((c for c in res.contained or [] if target == f"#{c.id}"), None) or r.by_ref.get(target)
        cc = getattr(med, "code", None)
        if cc is None:
            r.problems.append(f"{ref}: medication reference could not be resolved; skipped")
            return
    text = _display(cc) or "(uncoded medication)"
    codes = _codes(cc)
    kind, concept = concept_for("drug", text, codes)
    dosages = getattr(res, "dosage", None) or getattr(res, "dosageInstruction", None) or []
    value = unit = frequency = None
    if dosages:
        d = dosages[0]
        qty = next((x.doseQuantity for x in d.doseAndRate or [] if x.doseQuantity is not None), None)
        if qty is not None and qty.value is not None:
            raw_unit = qty.code if qty.system == "http://unitsofmeasure.org" and qty.code else qty.unit
            value = float(qty.value)
            unit, ok = unit_of(raw_unit)
            if not ok:
                r.problems.append(f"{ref}: dose unit '{raw_unit}' not understood; dose kept without a unit")
        repeat = d.timing.repeat if d.timing is not None else None
        if repeat is not None:
            frequency = frequency_from_timing(repeat.frequency, repeat.period, repeat.periodUnit)
        if frequency is None and d.timing is not None and d.timing.code is not None:
            frequency = frequency_of(d.timing.code.text) or frequency_of(_status(d.timing.code))
        frequency = frequency or frequency_of(d.text) or ("as needed" if d.asNeededBoolean else None)
    if res.get_resource_type() == "MedicationStatement":
        period = res.effectivePeriod
        start = partial_date(res.effectiveDateTime) or partial_date(period and period.start)
        end = partial_date(period and period.end)
    else:
        validity = res.dispenseRequest.validityPeriod if res.dispenseRequest is not None else None
        start = partial_date(validity and validity.start) or partial_date(res.authoredOn)
        end = partial_date(validity and validity.end)
    negated = res.status == "not-taken" or bool(getattr(res, "doNotPerform", False))
    r.add("drug", concept if kind in ("drug", "drug_class") else None, text, codes, ref, value=value, unit=unit,
          frequency=frequency, start=start, end=end, active=_MED_STATUS.get(res.status), negated=negated)


def _observation(r: _Reader, res: Any, ref: str) -> None:
    if res.status in ("entered-in-error", "cancelled"):
        return
    codes = _codes(res.code)
    text = _display(res.code) or "(uncoded observation)"
    start = (partial_date(res.effectiveDateTime) or partial_date(res.effectivePeriod and res.effectivePeriod.start)
             or partial_date(res.issued))
    if codes.get("loinc") == _PREGNANCY_STATUS or "pregnancy status" in text.lower():
        return _pregnancy(r, res, ref, text, codes, start)
    if codes.get("loinc") == _SMOKING_STATUS or "smoking status" in text.lower():
        return _smoking(r, res, ref, text, codes, start)
    found = _value(r, res, ref, text, codes, start)
    for k, comp in enumerate(res.component or []):
        found |= _value(r, comp, f"{ref} component[{k}]", _display(comp.code) or text, _codes(comp.code), start)
    if not found:
        why = f" (dataAbsentReason: {_display(res.dataAbsentReason)})" if res.dataAbsentReason else ""
        r.problems.append(f"{ref}: Observation '{text}' has no value{why}; skipped")


def _value(r: _Reader, obs: Any, ref: str, text: str, codes: dict[str, str], start: Any) -> bool:
    """One Observation (or component) value -> a lab or score fact; False when there is no value."""
    kind, concept = concept_for("observation", text, codes)
    fact_kind = "score" if kind == "score" else "lab"
    value = raw_unit = scale = None
    if obs.valueQuantity is not None and obs.valueQuantity.value is not None:
        q = obs.valueQuantity
        value = float(q.value)
        raw_unit = q.code if q.system == "http://unitsofmeasure.org" and q.code else (q.unit or q.code)
        if q.comparator:
            r.problems.append(f"{ref}: value is a bound ('{q.comparator}'), kept as if exact")
    elif obs.valueInteger is not None:
        value = float(obs.valueInteger)
    elif obs.valueRatio is not None and obs.valueRatio.numerator and obs.valueRatio.numerator.value is not None:
        value = float(obs.valueRatio.numerator.value)
        den = obs.valueRatio.denominator
        scale = float(den.value) if den is not None and den.value is not None else None
    elif obs.valueCodeableConcept is not None:
        answer = next((c.code for c in obs.valueCodeableConcept.coding or [] if c.code in _ECOG_ANSWERS), None)
        if answer is None:
            r.problems.append(f"{ref}: coded value of '{text}' not read")
            return True
        value = float(_ECOG_ANSWERS[answer])
    elif any(getattr(obs, f, None) is not None for f in ("valueString", "valueBoolean", "valueRange",
                                                            "valueDateTime", "valuePeriod", "valueTime")):
        r.problems.append(f"{ref}: non-numeric value of '{text}' not read")
        return True
    elif fact_kind == "lab" and (word := _interpretation(obs)) is not None:
        # A result given only as its flag ("N", "H", "L"): the matcher reads it against reference ranges.
        r.add("lab", concept, f"{text} ({word})", codes, ref, interpretation=word, start=start)
        return True
    else:
        return False
    if fact_kind == "score" and (s := scale_from_unit(raw_unit)) is not None:
        scale, raw_unit = s, None
    value, unit = normalize_value(concept, value, raw_unit)
    if raw_unit and not unit_of(raw_unit)[1]:
        r.problems.append(f"{ref}: unit '{raw_unit}' of '{text}' not understood; value kept, unit unknown")
        text = f"{text} [unit: {raw_unit}]"
    if fact_kind == "score":
        scale = scale_for(concept, value, scale)
    r.add(fact_kind, concept, text, codes, ref, value=value, unit=unit, scale_max=scale, start=start)
    return True


# HL7 v3 ObservationInterpretation codes for normal, high and low
_INTERPRETATION = {"N": "normal", "H": "high", "HH": "high", "HU": "high", "L": "low", "LL": "low", "LU": "low"}


def _interpretation(obs: Any) -> str | None:
    codes = {c.code for cc in getattr(obs, "interpretation", None) or [] for c in cc.coding or [] if c.code}
    words = {_INTERPRETATION[c] for c in codes if c in _INTERPRETATION}
    return words.pop() if len(words) == 1 else None


def _answer(obs: Any) -> tuple[str, set[str]]:
    cc = obs.valueCodeableConcept
    return ((_display(cc) or "").lower(), {c.code for c in (cc.coding or []) if c.code}) if cc else ("", set())


def _pregnancy(r: _Reader, res: Any, ref: str, text: str, codes: dict[str, str], start: Any) -> None:
    words, answer = _answer(res)
    if "60001007" in answer or "not pregnant" in words or words in ("negative", "no"):
        negated = True
    elif "77386006" in answer or words in ("pregnant", "positive", "yes"):
        negated = False
    else:
        r.problems.append(f"{ref}: pregnancy status not stated plainly; skipped")
        return
    r.add("pregnancy", None, words or text, codes, ref, negated=negated, active=not negated, start=start)


_SMOKING = {  # SNOMED answers of LOINC 72166-2 -> (active, historical, negated)
    "449868002": (True, False, False), "428041000124106": (True, False, False),
    "428071000124103": (True, False, False), "428061000124105": (True, False, False),
    "77176002": (True, False, False), "8517006": (False, True, False), "266919005": (None, False, True),
}


def _smoking(r: _Reader, res: Any, ref: str, text: str, codes: dict[str, str], start: Any) -> None:
    words, answer = _answer(res)
    hit = next((_SMOKING[c] for c in answer if c in _SMOKING), None)
    if hit is None:
        hit = ((None, False, True) if "never" in words else (False, True, False) if "former" in words
               else (True, False, False) if "current" in words else None)
    if hit is None:
        r.problems.append(f"{ref}: smoking status not stated plainly; skipped")
        return
    active, historical, negated = hit
    r.add("smoking", lexicon().get("condition", "tobacco use"), words or text, codes, ref, active=active,
          historical=historical, negated=negated, start=start)


def _procedure(r: _Reader, res: Any, ref: str) -> None:
    if res.status == "entered-in-error":
        return
    text = _display(res.code) or "(uncoded procedure)"
    codes = _codes(res.code)
    _, concept = concept_for("procedure", text, codes)
    period = res.performedPeriod
    r.add("procedure", concept, text, codes, ref, negated=res.status == "not-done",
          start=partial_date(res.performedDateTime) or partial_date(period and period.start),
          end=partial_date(period and period.end),
          active=True if res.status == "in-progress" else None)


def _immunization(r: _Reader, res: Any, ref: str) -> None:
    if res.status == "entered-in-error":
        return
    text = _display(res.vaccineCode) or "(uncoded vaccine)"
    codes = _codes(res.vaccineCode)
    _, concept = concept_for("vaccine", text, codes)
    r.add("vaccine", concept, text, codes, ref, negated=res.status == "not-done",
          start=partial_date(res.occurrenceDateTime))


def _allergy(r: _Reader, res: Any, ref: str) -> None:
    verification = _status(res.verificationStatus)
    codes = _codes(res.code)
    text = _display(res.code) or "(uncoded allergy)"
    if verification == "entered-in-error" or _NO_KNOWN_ALLERGY & set(codes.values()) \
            or text.lower().startswith("no known"):
        return  # "no known allergies" is the absence of facts, not a fact
    kind, concept = concept_for("allergy", text, codes)
    r.add("allergy", concept, text, codes, ref, negated=verification == "refuted",
          active=_ACTIVE.get(_status(res.clinicalStatus) or ""), start=partial_date(res.onsetDateTime))


_MAPPERS: dict[str, Callable[[_Reader, Any, str], None]] = {
    "Condition": _condition, "MedicationStatement": _medication, "MedicationRequest": _medication,
    "Observation": _observation, "Procedure": _procedure, "Immunization": _immunization,
    "AllergyIntolerance": _allergy,
}


def patient_from_fhir(data: dict | str | bytes, *, source_name: str = "bundle") -> Patient:
    """A FHIR R4 Bundle (or a lone Patient resource) as JSON text, bytes or a parsed dict -> Patient.

    Raises PatientInputError for non-JSON, a top-level resource other than Bundle/Patient, or a
    resource we read that is not valid FHIR (the message names entry, resource and field).
    """
    raw = _load(data, source_name)
    r = _Reader(source_name)
    rtype = raw.get("resourceType")
    if rtype == "Patient":
        items: list[tuple[str, Any, str | None]] = [("Patient", raw, None)]
    elif rtype == "Bundle":
        entries = raw.get("entry") or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise PatientInputError(source_name, "Bundle: entry: expected a list of objects")
        shell = {**raw, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
        r.validate("Bundle", shell)
        items = []
        for i, e in enumerate(entries):
            res = e.get("resource")
            rt = res.get("resourceType") if isinstance(res, dict) else None
            if rt in _READ:
                rid = res.get("id")
                items.append((f"entry[{i}] {rt}" + (f"/{rid}" if isinstance(rid, str) else ""), res, e.get("fullUrl")))
            elif res is not None and not isinstance(rt, str):
                raise PatientInputError(source_name, f"entry[{i}]: resource has no resourceType")
    else:
        shown = rtype[:40] if isinstance(rtype, str) else None
        raise PatientInputError(source_name, f"expected a FHIR Bundle or Patient resource, got resourceType {shown!r}")

    resources = []
    for where, res, full_url in items:
        model = r.validate(where, res)
        resources.append(model)
        if model.id:
            r.by_ref[_ref(model)] = model
        if isinstance(full_url, str):
            r.by_ref[full_url] = model

    patient = Patient()
    patients = [m for m in resources if m.get_resource_type() == "Patient"]
    if len(patients) > 1:
        r.problems.append(f"{len(patients)} Patient resources; demographics read from the first only")
    if patients:
        p = patients[0]
        patient.id = p.id
        patient.sex = p.gender if p.gender in ("female", "male") else None
        if isinstance(p.birthDate, str):
            r.problems.append(f"{_ref(p)}: birthDate is partial; age not set")
        elif p.birthDate is not None:
            patient.birth_date = p.birthDate
    for model in resources:
        mapper = _MAPPERS.get(model.get_resource_type())
        if mapper is not None:
            mapper(r, model, _ref(model))
    patient.facts = r.facts
    patient.problems = r.problems + contradictions(r.facts)
    return patient
