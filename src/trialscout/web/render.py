"""Jinja2 templates with autoescaping always on: trial text comes from third parties."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from .present import glossary, phase_label, status_label

_env = Environment(loader=PackageLoader("trialscout.web", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def person_state(result) -> str:
    """A criterion's state from the person's side: an exclusion that applies ("met" for the matcher)
    is a requirement the person does not meet, so pages show every line as met = not in the way."""
    if result.section == "exclusion" and result.state in ("met", "not_met"):
        return "not_met" if result.state == "met" else "met"
    return result.state


_env.globals.update(status_label=status_label, phase_label=phase_label, glossary=glossary, person_state=person_state)
_env.filters["label"] = lambda v: (v or "").replace("_", " ").lower()
templates = Jinja2Templates(env=_env)
