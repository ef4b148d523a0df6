"""The enumerations of trial fields (API v2 spellings), loaded from vocab.json."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .normalize import enum_value


@lru_cache(maxsize=1)
def _vocab() -> dict[str, list[str]]:
    return json.loads(resources.files("trialscout.model").joinpath("vocab.json").read_text())


def allowed(kind: str) -> list[str]:
    return _vocab()[kind]


def _phase_alias(value: str) -> str:
    # People type "2", "phase 2", "early 1" or "n/a" for phases.
    compact = value.replace("_", "")
    if compact.isdigit():
        return f"PHASE{compact}"
    if compact in ("EARLY1", "EARLYPHASE1"):
        return "EARLY_PHASE1"
    if compact in ("N/A", "NA", "NOTAPPLICABLE"):
        return "NA"
    return compact


def normalize_choice(kind: str, text: str) -> str:
    """'not yet recruiting' -> 'NOT_YET_RECRUITING'; raises ValueError listing the choices."""
    value = enum_value(text) or ""
    if kind == "phase":
        value = _phase_alias(value)
    if value not in allowed(kind):
        choices = ", ".join(v.lower() for v in allowed(kind))
        raise ValueError(f"unknown {kind.replace('_', ' ')} {text!r}: choose from {choices}")
    return value
