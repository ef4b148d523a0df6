"""The simple patient profile (JSON or YAML) a person or a web questionnaire fills in -> Patient.

Lists accept plain names ("conditions: [dermatomyositis]") or objects with details. Names are
matched to the lexicon; names it does not know are kept as text and listed in ``problems`` so a
questionnaire can ask again. ``docs/patient-profile.schema.json`` is generated from these models
(``scripts/write_profile_schema.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from ..criteria.lexicon import lexicon
from .concepts import concept_for, contradictions, frequency_of, normalize_value, partial_date, scale_for, unit_of
from .errors import PatientInputError, describe_validation
from .model import Patient, PatientFact, Provenance

__all__ = ["Profile", "patient_from_profile", "profile_json_schema"]


def _date(v: Any) -> Any:
    if isinstance(v, str) and v.strip():
        return partial_date(v) or v  # unparseable strings fall through to pydantic's own error
    return v


PartialDate = Annotated[
    dt.date, BeforeValidator(_date),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
                    "description": "YYYY, YYYY-MM or YYYY-MM-DD; a partial date means its first day"}),
]
Name = Annotated[str, Field(min_length=1, max_length=300)]


def _name_only(v: Any) -> Any:
    return {"name": v} if isinstance(v, str) else v


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConditionItem(_Item):
    name: Name
    since: PartialDate | None = None
    active: bool | None = Field(None, description="true: current; false: resolved; omitted: not said")
    negated: bool = Field(False, description="true: the person does NOT have it")


class MedicationItem(_Item):
    name: Name
    dose: float | None = Field(None, ge=0, description="one dose, in `unit`")
    unit: str | None = Field(None, max_length=40)
    frequency: str | None = Field(None, max_length=60, description='"daily", "twice daily", "weekly", "BID" ...')
    since: PartialDate | None = None
    until: PartialDate | None = Field(None, description="when it was stopped; omit for a medication taken now")
    active: bool | None = Field(None, description="default: true unless `until` is in the past")
    negated: bool = Field(False, description="true: the person has NEVER taken it")


class LabItem(_Item):
    name: Name
    value: float
    unit: str | None = Field(None, max_length=40)
    date: PartialDate | None = None


class ScoreItem(_Item):
    name: Name
    value: float
    scale_max: float | None = Field(None, gt=0, description="for scores with several scales: MMT-8 80 or 150")
    date: PartialDate | None = None


class DatedItem(_Item):
    name: Name
    date: PartialDate | None = None
    negated: bool = Field(False, description="true: the person has NEVER had it")


class AllergyItem(_Item):
    name: Name


def _or_name(model: type[BaseModel]) -> Any:
    return Annotated[model, BeforeValidator(_name_only, json_schema_input_type=str | model)]


_SEXES = {"f": "female", "woman": "female", "m": "male", "man": "male"}


def _sex(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip().lower()
        return _SEXES.get(v, v)
    return v


class Profile(BaseModel):
    """What a person says about themself to find trials. Every field is optional."""

    model_config = ConfigDict(extra="forbid", title="trialscout patient profile")

    age: float | None = Field(None, ge=0, le=130, description="years; use birth_date when known")
    birth_date: dt.date | None = None
    sex: Annotated[Literal["female", "male", "other", "unknown"] | None, BeforeValidator(_sex)] = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    consent: bool | None = Field(None, description="willing to give informed consent to a trial")
    will_comply: bool | None = Field(None, description="willing and able to follow a study's visits and procedures")
    smoking: Literal["never", "former", "current"] | None = None
    conditions: list[_or_name(ConditionItem)] = Field(default_factory=list)  # type: ignore[valid-type]
    medications: list[_or_name(MedicationItem)] = Field(default_factory=list)  # type: ignore[valid-type]
    labs: list[LabItem] = Field(default_factory=list)
    scores: list[ScoreItem] = Field(default_factory=list)
    procedures: list[_or_name(DatedItem)] = Field(default_factory=list)  # type: ignore[valid-type]
    vaccines: list[_or_name(DatedItem)] = Field(default_factory=list)  # type: ignore[valid-type]
    allergies: list[_or_name(AllergyItem)] = Field(default_factory=list)  # type: ignore[valid-type]
    notes: str | None = Field(None, max_length=1_000_000, description="free text, read like a clinical note")


def profile_json_schema() -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Profile.model_json_schema()}


def _parse_text(data: str, source: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        # Only the problem and its position: the snippet YAML attaches would quote the input.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise PatientInputError(source, f"neither JSON nor YAML: {getattr(exc, 'problem', None) or 'syntax error'}"
                                        f"{where}") from None


class _Builder:
    def __init__(self) -> None:
        self.facts: list[PatientFact] = []
        self.problems: list[str] = []

    def add(self, ref: str, kind: str, hint: str | None, name: str, **kw: Any) -> Any:
        lex_kind, concept = concept_for(hint, name) if hint else (kind, None)
        if hint and concept is None:
            self.problems.append(f"{ref}: '{name}' is not in the lexicon; kept as text")
        self.facts.append(PatientFact(kind=kind, concept=concept.name if concept else None,  # type: ignore[arg-type]
                                      text=name,
                                      provenance=Provenance(source="profile", ref=ref, text=name), **kw))
        return concept


def patient_from_profile(data: dict | str, source_name: str = "profile") -> Patient:
    """A profile as a dict or JSON/YAML text -> Patient. Invalid input raises PatientInputError naming
    the field path ("labs[2].value: Input should be a valid number")."""
    raw = _parse_text(data, source_name) if isinstance(data, str) else data
    if not isinstance(raw, dict):
        raise PatientInputError(source_name, f"expected a mapping of profile fields, got {type(raw).__name__}")
    try:
        prof = Profile.model_validate(raw)
    except ValidationError as exc:
        raise PatientInputError(source_name, describe_validation(exc)) from None
    today = dt.date.today()
    patient = Patient(birth_date=prof.birth_date, age_years=prof.age,
                      sex=prof.sex if prof.sex in ("female", "male") else None)
    if prof.birth_date and prof.age is not None and abs((patient.age_on(today) or 0) - prof.age) > 1:
        patient.problems.append("age and birth_date disagree; birth_date is used")
    b = _Builder()
    kinds = {"pregnant": "pregnancy", "breastfeeding": "breastfeeding", "consent": "consent",
             "will_comply": "compliance"}
    for flag, kind in kinds.items():
        value = getattr(prof, flag)
        if value is not None:
            b.add(flag, kind, None, flag, negated=not value, active=value)
    if prof.smoking:
        b.facts.append(PatientFact(
            kind="smoking", concept="tobacco use" if lexicon().get("condition", "tobacco use") else None,
            text=f"{prof.smoking} smoker", active={"current": True, "former": False}.get(prof.smoking),
            historical=prof.smoking == "former", negated=prof.smoking == "never",
            provenance=Provenance(source="profile", ref="smoking", text=prof.smoking)))
    for i, c in enumerate(prof.conditions):
        b.add(f"conditions[{i}]", "condition", "condition", c.name, start=c.since, active=c.active,
              negated=c.negated)
    for i, m in enumerate(prof.medications):
        ref = f"medications[{i}]"
        unit, ok = unit_of(m.unit)
        if not ok:
            b.problems.append(f"{ref}: unit '{m.unit}' not understood; dose kept without a unit")
        elif m.dose is not None and unit is None:
            b.problems.append(f"{ref}: dose has no unit; unit unknown")
        active = False if m.negated else m.active if m.active is not None else not (m.until is not None
                                                                                     and m.until <= today)
        freq = frequency_of(m.frequency) or (m.frequency.strip().lower() if m.frequency else None)
        b.add(ref, "drug", "drug", m.name, value=m.dose, unit=unit, frequency=freq, start=m.since, end=m.until,
              active=active, negated=m.negated)
    for i, lab in enumerate(prof.labs):
        ref = f"labs[{i}]"
        _, concept = concept_for("lab", lab.name)
        value, unit = normalize_value(concept, lab.value, lab.unit)
        if not unit_of(lab.unit)[1]:
            b.problems.append(f"{ref}: unit '{lab.unit}' not understood; value kept, unit unknown")
        elif unit is None and concept is not None and concept.data.get("unit"):
            b.problems.append(f"{ref}: no unit given; unit unknown")
        b.add(ref, "lab", "lab", lab.name, value=value, unit=unit, start=lab.date)
    for i, s in enumerate(prof.scores):
        _, concept = concept_for("score", s.name)
        b.add(f"scores[{i}]", "score", "score", s.name, value=s.value,
              scale_max=scale_for(concept, s.value, s.scale_max), start=s.date)
    for field, kind in (("procedures", "procedure"), ("vaccines", "vaccine")):
        for i, item in enumerate(getattr(prof, field)):
            b.add(f"{field}[{i}]", kind, kind, item.name, start=item.date, negated=item.negated)
    for i, a in enumerate(prof.allergies):
        b.add(f"allergies[{i}]", "allergy", "allergy", a.name, active=True)
    if prof.notes and prof.notes.strip():
        from .note import patient_from_note  # spaCy loads only for profiles that carry notes

        noted = patient_from_note(prof.notes, source_name="notes")
        b.facts += noted.facts
        b.problems += noted.problems
        for attr in ("age_years", "sex"):
            given, read = getattr(patient, attr), getattr(noted, attr)
            if given is None and read is not None and not (attr == "age_years" and patient.birth_date):
                setattr(patient, attr, read)
            elif given is not None and read is not None and given != read:
                b.problems.append(f"notes: {attr} in the notes differs from the profile; the profile is used")
    patient.facts = b.facts
    patient.problems += b.problems + contradictions(b.facts)
    return patient
