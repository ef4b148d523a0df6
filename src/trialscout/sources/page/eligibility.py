"""Who may take part: eligibility criteria as a ClinicalTrials.gov-style text, age limits, sex
and healthy volunteers.

Criteria are rebuilt in the layout ClinicalTrials.gov uses ('Inclusion Criteria:' then '* item'
lines), so criteria from a page and from the API are matched by the same downstream code.
"""

from __future__ import annotations

import re

from trialscout.model import Eligibility
from trialscout.model.normalize import yes_no

from .ages import parse_age_range, parse_single_age, parse_std_ages
from .lines import Line, split_line
from .sections import Section, content, first_value, value_texts
from .values import parse_sex
from .vocab import CRITERIA


def _criteria_lines(section: Section) -> list[Line]:
    lines = []
    if section.value:
        # "Inclusion criteria: 1. Adults 2. Consent" on one line (registry exports do this).
        parts = re.split(r"\s+(?=\(?\d{1,2}[.)]\s)", section.value)
        lines = [split_line(-1, part) for part in parts if part.strip()]
    lines += [line for line in content(section) if not line.noise]
    while lines and lines[-1].blank:
        lines.pop()
    return lines


def _criteria_block(lines: list[Line]) -> str:
    """Criteria in the ClinicalTrials.gov layout: list items one per line, other text as paragraphs."""
    listed = any(line.marker for line in lines)
    blocks: list[list[str]] = []
    previous_item = False
    for line in lines:
        if line.blank:
            previous_item = False
            continue
        if line.marker or not listed:
            marker = "*" if (line.marker in (None, "*")) else line.marker
            text = f"{marker} {line.text}"
            if previous_item:
                blocks[-1].append(text)
            else:
                blocks.append([text])
            previous_item = True
        else:
            blocks.append([line.text])
            previous_item = False
    return "\n\n".join("\n".join(block) for block in blocks)


def _criteria(sections: list[Section]) -> str | None:
    """'Inclusion Criteria:\\n\\n* ...\\n\\nExclusion Criteria:\\n\\n* ...', from the first sections that have items."""
    parts: dict[str, str] = {}
    for section in sections:
        if section.name in CRITERIA and section.name not in parts:
            lines = _criteria_lines(section)
            if section.name == "eligibility" and not any(line.marker for line in lines):
                continue  # a general "Eligibility" heading over prose, not a list
            if any(not line.blank for line in lines):
                parts[section.name] = _criteria_block(lines)
    if "inclusion" in parts or "exclusion" in parts:
        out = []
        if "inclusion" in parts:
            out.append("Inclusion Criteria:\n\n" + parts["inclusion"])
        if "exclusion" in parts:
            out.append("Exclusion Criteria:\n\n" + parts["exclusion"])
        return "\n\n".join(out)
    return parts.get("eligibility")  # an unlabelled list: kept, but not called inclusion


def read_eligibility(sections: list[Section]) -> tuple[Eligibility | None, int]:
    """The Eligibility, and how many of age limits and sex the page stated (evidence of a trial page)."""
    low, high = None, None
    ranges, range_section = first_value(sections, "age_range", parse_age_range)
    if ranges:
        low, high = ranges
    low = first_value(sections, "minimum_age", lambda t: parse_single_age(t) or parse_age_range(t)[0])[0] or low
    high = first_value(sections, "maximum_age", lambda t: parse_single_age(t) or parse_age_range(t)[1])[0] or high
    sex = first_value(sections, "sex", parse_sex)[0]
    volunteers = first_value(sections, "healthy_volunteers", yes_no)[0]
    std = parse_std_ages(" ".join(value_texts(range_section, 1))) if range_section else []
    criteria = _criteria(sections)
    found = sum(x is not None for x in (low, high, sex))
    if not (found or criteria or volunteers is not None):
        return None, 0
    return Eligibility(criteria=criteria, sex=sex, minimum_age=low, maximum_age=high, std_ages=std,
                       healthy_volunteers=volunteers), found
