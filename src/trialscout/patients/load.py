"""One entry point for a patient file: FHIR JSON, a profile (JSON/YAML) or a free-text note."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .errors import PatientInputError
from .model import Patient

__all__ = ["MAX_FILE_BYTES", "load_patient", "patient_from_bytes"]

MAX_FILE_BYTES = 200 * 1024 * 1024  # a large Synthea bundle is ~20 MB; beyond this it is not a patient file
_NOTE_SUFFIXES = {".txt", ".md", ".text", ".note"}
_YAML_SUFFIXES = {".yaml", ".yml"}


def _profile_keys() -> set[str]:
    from .profile import Profile

    return set(Profile.model_fields)


def load_patient(path: Path, as_of: dt.date | None = None) -> Patient:
    """Read ``path`` by what it holds: JSON with a ``resourceType`` is FHIR; a JSON or YAML mapping is
    a profile; .txt/.md, or any other text, is a note (its relative times, "2 years ago", dated from
    ``as_of``, default today). Raises PatientInputError naming the file."""
    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PatientInputError(name, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise PatientInputError(name, "no such file") from None
    except IsADirectoryError:
        raise PatientInputError(name, "is a directory, not a file") from None
    except OSError as exc:
        raise PatientInputError(name, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    return patient_from_bytes(data, name, as_of)


def patient_from_bytes(data: bytes, name: str, as_of: dt.date | None = None) -> Patient:
    """The same sniffing for bytes that never touched a disk (a web upload); ``name``'s suffix is a hint."""
    path = Path(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PatientInputError(name, "not UTF-8 text") from None
    suffix = path.suffix.lower()
    if suffix in _NOTE_SUFFIXES:
        from .note import patient_from_note

        return patient_from_note(text, source_name=name, as_of=as_of)
    stripped = text.lstrip()
    if suffix == ".json" or stripped.startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError as exc:
            if suffix == ".json":
                raise PatientInputError(name, f"not JSON: {getattr(exc, 'msg', 'syntax error')}") from None
            raw = None
        if isinstance(raw, dict):
            if "resourceType" in raw:
                from .fhir import patient_from_fhir

                return patient_from_fhir(raw, source_name=name)
            from .profile import patient_from_profile

            return patient_from_profile(raw, source_name=name)
        if suffix == ".json":
            raise PatientInputError(name, f"expected a JSON object, got {type(raw).__name__}")
    if suffix in _YAML_SUFFIXES or _looks_like_profile(text):
        from .profile import patient_from_profile

        return patient_from_profile(text, source_name=name)
    from .note import patient_from_note

    return patient_from_note(text, source_name=name, as_of=as_of)


def _looks_like_profile(text: str) -> bool:
    """An unlabelled file is a profile only if it is a YAML mapping of profile fields: a note such as
    "Age: 58" parses as YAML too, so every key must be one the profile knows."""
    if len(text) > 5_000_000:
        return False
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(raw, dict) and bool(raw) and all(isinstance(k, str) for k in raw) \
        and set(raw) <= _profile_keys()
