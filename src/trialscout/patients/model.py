"""One typed patient, whatever the input (FHIR Bundle, simple profile, free-text note).

A patient is demographics plus facts. Each fact says what it is (kind and, when the lexicon knows it,
the canonical concept), its value with unit, when it was true, whether it was stated as absent
("denies diabetes"), past or in the family, and where it came from, so every verdict can cite it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FactKind = Literal[
    "condition", "drug", "lab", "score", "procedure", "vaccine", "device", "allergy",
    "pregnancy", "breastfeeding", "contraception", "smoking", "consent", "compliance",
]


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Literal["fhir", "profile", "note"]
    ref: str | None = None  # "Observation/obs-1", "medications[2]", "sentence 4"
    text: str | None = None  # the words it was read from, for explanations


class PatientFact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FactKind
    concept: str | None = None  # canonical lexicon name; None when only the text is known
    text: str  # as the source wrote it ("Prednisone 5 MG Oral Tablet", "platelets")
    codes: dict[str, str] = Field(default_factory=dict)  # {"loinc": "777-3"}, {"rxnorm": "8640"}
    value: float | None = None  # lab or score value, or a drug's dose
    unit: str | None = None  # canonical unit spelling (criteria.units.normalize_unit)
    scale_max: float | None = None  # for scores with several conventions: MMT-8 /80 or /150
    frequency: str | None = None  # "daily", "weekly", "twice daily" for drugs
    start: dt.date | None = None  # onset, effective date, or when a drug was started
    end: dt.date | None = None  # abatement, or when a drug was stopped
    active: bool | None = None  # current (True), resolved/stopped (False), unknown (None)
    negated: bool = False  # stated absent: "denies diabetes", clinicalStatus refuted
    historical: bool = False
    family: bool = False  # about a relative, not the patient
    # a lab reported without a number: "normal" (within the reference range), "high" or "low"
    interpretation: Literal["normal", "high", "low"] | None = None
    provenance: Provenance


class Patient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    birth_date: dt.date | None = None
    age_years: float | None = None  # when only an age is known ("a 58-year-old")
    sex: Literal["female", "male"] | None = None
    facts: list[PatientFact] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)  # input that could not be read, said plainly

    def age_on(self, day: dt.date) -> float | None:
        if self.birth_date is not None:
            years = day.year - self.birth_date.year
            if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return float(years)
        return self.age_years

    def of_kind(self, *kinds: str) -> list[PatientFact]:
        return [f for f in self.facts if f.kind in kinds]
