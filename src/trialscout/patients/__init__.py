"""Patients: one typed model (``model``) and the loaders that fill it (FHIR, profile, note)."""

from .model import Patient, PatientFact, Provenance

__all__ = ["Patient", "PatientFact", "Provenance"]
