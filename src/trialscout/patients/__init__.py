"""Patients: one typed model (``model``) and the loaders that fill it (FHIR, profile, note)."""

from .errors import PatientInputError
from .fhir import patient_from_fhir
from .load import load_patient, patient_from_bytes
from .model import Patient, PatientFact, Provenance
from .note import patient_from_note
from .profile import Profile, patient_from_profile, profile_json_schema

__all__ = [
    "Patient", "PatientFact", "PatientInputError", "Profile", "Provenance", "load_patient", "patient_from_bytes",
    "patient_from_fhir", "patient_from_note", "patient_from_profile", "profile_json_schema",
]
