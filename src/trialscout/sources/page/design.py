"""What a study does: its arms, interventions, outcome measures and design fields.

Pages list these as 'Type: Name' rows, as a name with its type and description on the lines
under it, or as tables flattened to text; arms often appear inside the interventions section,
so reading interventions also yields arm rows.
"""

from __future__ import annotations

import re

from trialscout.model import Arm, Design, Intervention, Outcome
from trialscout.model.normalize import canonical, enum_value

from .lines import Line, is_sentence
from .sections import Section, content, first_value, split_inline
from .values import parse_arm_type, parse_intervention_type
from .vocab import fold


def read_interventions(section: Section, arms: list[Arm]) -> list[Intervention]:
    """Intervention names ('Drug: X' or 'X'), their type lines and descriptions; arm rows go to `arms`."""
    found: list[Intervention] = []
    bulleted = False
    lines = [Line(-1, v, 0) for v in split_inline(section.value)] + content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        if kind := line.attr("intervention_type"):
            if found:
                found[-1].type = parse_intervention_type(kind)
            continue
        if line.hit or line.text.endswith("?"):
            continue
        arm = _arm_row(line.text)
        if arm:
            arms.append(arm)
            continue
        if is_sentence(line.text):
            if found and found[-1].description is None and not bulleted:
                found[-1].description = line.text
            elif arms and arms[-1].description is None and not found:
                arms[-1].description = line.text
            if bulleted:
                break
            continue
        if line.marker:
            bulleted = True
        elif bulleted:
            break
        found.append(_intervention(line.text))
    return found


def _intervention(text: str) -> Intervention:
    kind, _, name = text.partition(":")
    if name.strip() and (value := parse_intervention_type(kind)):
        return Intervention(name=name.strip(), type=value)
    return Intervention(name=text.strip())


def _arm_row(text: str) -> Arm | None:
    """'Experimental: Drug X 10 mg' -> an EXPERIMENTAL arm labelled 'Drug X 10 mg'."""
    kind, sep, label = text.partition(":")
    value = parse_arm_type(kind) if sep else None
    return Arm(label=label.strip(), type=value) if value and label.strip() else None


def read_arms(section: Section) -> list[Arm]:
    """Arms as 'Type: Label' rows, or as a label line with the arm's type and interventions below it."""
    arms: list[Arm] = []
    pending: str | None = None  # a name under a typed arm, waiting for its intervention type
    for line in content(section):
        if line.blank or line.field:
            continue
        if value := line.attr("arm_type"):
            if arms:
                arms[-1].type = parse_arm_type(value) or enum_value(value)
            continue
        if value := line.attr("intervention_type"):
            if arms and pending:
                kind = parse_intervention_type(value)
                arms[-1].interventions.append(f"{kind.replace('_', ' ').title() if kind else value}: {pending}")
                pending = None
            continue
        if line.hit or line.text.endswith("?"):
            continue
        if arm := _arm_row(line.text):
            arms.append(arm)
        elif is_sentence(line.text):
            if arms and arms[-1].description is None:
                arms[-1].description = line.text
        elif arms and arms[-1].type and arms[-1].description:
            pending = line.text
        else:
            arms.append(Arm(label=line.text))
    return arms


def read_outcomes(section: Section, kind: str) -> list[Outcome]:
    """Measures with the 'Time Frame:' lines and descriptions under them (tables flattened to lines)."""
    headers = {"outcome measure", "measure description", "measure", "description", "title"}
    out: list[Outcome] = []
    lines = [Line(-1, v, 0, marker="*") for v in split_inline(section.value)] + content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        current = out[-1] if out else None
        if line.hit:
            if line.hit.name == "time_frame" and line.hit.value and current is not None:
                current.time_frame = line.hit.value
            continue
        text = line.text
        if fold(text) in headers or (current and current.time_frame and text == current.time_frame):
            continue
        frame = re.search(r"[\[(]\s*time ?frame\s*:\s*([^\])]+)[\])]", text, re.IGNORECASE)
        if frame:
            text = (text[:frame.start()] + text[frame.end():]).strip()
        if not text:
            continue
        new = current is None or line.marker or (current.time_frame and current.description) \
            or (current.description and not is_sentence(text))
        if new or current is None:
            out.append(Outcome(kind=kind, measure=text, time_frame=frame.group(1).strip() if frame else None))
        elif current.description is None:
            current.description = text
    return out


def read_design(sections: list[Section]) -> Design | None:
    """Allocation, model, masking and purpose, each from its labelled value."""
    def enum(kind: str | None):
        def parse(text: str) -> str | None:
            if len(text.split()) > 6 or is_sentence(text):
                return None
            return canonical(kind, text) if kind else enum_value(text)
        return parse

    values = {name: first_value(sections, name, enum(kind))[0] for name, kind in (
        ("allocation", "allocation"), ("intervention_model", "model"), ("masking", "masking"),
        ("primary_purpose", "purpose"), ("observational_model", None), ("time_perspective", None))}
    if values["masking"] and values["masking"].startswith("NONE"):
        values["masking"] = "NONE"  # "None (Open Label)"
    return Design(**values) if any(values.values()) else None
