"""A page as headed sections, and the generic readers over them (one value, a list, prose).

A section runs from a heading or a field label to the next one. Whether a labelled line opens a
section depends on the section it appears in (a bulleted "Age: 18 or over" inside criteria is a
criterion), and an unlabelled short line set apart by blank lines ends the content of the
section above it, so page furniture under a list is not read into the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lines import Line, is_sentence
from .vocab import CRITERIA, PROSE, SCALAR


@dataclass
class Section:
    name: str | None  # a field, "_ignore" (see-also lists, citations), "_boundary", or None (unlabelled)
    head: Line | None
    value: str = ""  # the value on the label's own line
    qualifier: str | None = None
    body: list[Line] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        """The heading line (if any) and the body."""
        return ([self.head] if self.head else []) + self.body


def split_sections(lines: list[Line]) -> list[Section]:
    sections = [Section(None, None)]
    previous: Line | None = None
    for line in lines:
        if line.noise:
            continue
        current = sections[-1]
        if _opens_section(line, current, previous):
            hit = line.hit if line.field else None
            sections.append(Section(hit.name if hit else None, line, hit.value if hit else "",
                                    hit.qualifier if hit else None))
        else:
            current.body.append(line)
        previous = line
    return sections


def _opens_section(line: Line, current: Section, previous: Line | None) -> bool:
    """Whether a line heads a new section, given the section it appears in.

    Context matters: in a criteria list a bulleted "Age: 18 or over" is a criterion, in a
    see-also list a "Status ..." row describes another trial, and in a summary an
    "Eligibility:" line is a sub-heading of the prose.
    """
    if line.blank:
        return False
    if line.heading:
        return True
    if not line.field:
        return False
    form = line.hit.form
    if current.name == "_ignore":
        return form == "alone" and not line.marker
    if current.name in CRITERIA:
        if line.marker or form in ("typed", "row"):
            return False
        if form == "alone":
            return True
        # "Age: 18 or over" in a run of unmarked criteria is a criterion; after a blank line, a
        # label line, or a bulleted/numbered list it is not part of the list any more.
        return previous is None or previous.blank or previous.hit is not None or previous.marker is not None
    if current.name in PROSE and form == "alone" and line.text.endswith((":", "：")):
        return line.field in ("inclusion", "exclusion")
    if current.name in PROSE and form != "alone":
        return line.field in SCALAR
    if current.name == "locations" and line.field == "central_contacts" and form != "alone":
        return False  # "Contact: name, phone" under a site is that site's contact
    return True


def _loose_heading(lines: list[Line], i: int) -> bool:
    """A short unlabelled line set apart by blank lines, with content under it: an unknown heading."""
    line = lines[i]
    text = line.text
    if line.blank or line.marker or line.hit or len(text) > 80 or not (text[0].isupper() or text[0].isdigit()):
        return False
    if i == 0 or not lines[i - 1].blank:
        return False
    if text.endswith("?"):
        return True
    if text.endswith((".", ",", ";", ":")) or len(text.split()) > 10:
        return False
    if i + 1 < len(lines) and not lines[i + 1].blank:
        return False
    return any(not later.blank for later in lines[i + 1:])


def content(section: Section) -> list[Line]:
    """The section's lines up to an unknown heading that follows some content of its own.

    Blank lines around a short line mark it as a heading only where the section's own content
    is written in runs of lines; on pages that put a blank line between every line, they mark
    nothing, and only a question ('What happens next?') is taken as a heading.
    """
    body = section.body
    seen = bool(section.value)
    runs = False  # has the section's content so far had two non-blank lines in a row?
    for i, line in enumerate(body):
        if seen and _loose_heading(body, i) and (runs or line.text.endswith("?")):
            return body[:i]
        seen = seen or not line.blank
        runs = runs or (i > 0 and not line.blank and not body[i - 1].blank)
    return body


def value_line(section: Section) -> list[Line]:
    """The value on the label's own line as a line of its own ([] when the label stands alone)."""
    return [Line(-1, section.value, 0)] if section.value else []


def value_texts(section: Section, limit: int = 4) -> list[str]:
    """Candidate values of a one-value field: the value on the label's line, then the next lines."""
    out = [section.value] if section.value else []
    for line in section.body:
        if len(out) >= limit:
            break
        if line.text and not line.hit:
            out.append(line.text)
    return out


def first_value(sections: list[Section], name: str, parse, limit: int = 3):
    """The first value of field `name` that parses, over every section so labelled, and its section."""
    for section in sections:
        if section.name == name:
            for text in value_texts(section, limit):
                value = parse(text)
                if value not in (None, [], (None, None)):
                    return value, section
    return None, None


def collect(sections: list[Section], name: str, reader) -> list:
    """Items of every section so labelled, without repeats (pages often show a list twice)."""
    out, seen = [], set()
    for section in sections:
        if section.name == name:
            for item in reader(section):
                key = item.model_dump_json() if hasattr(item, "model_dump_json") else item
                if key not in seen:
                    seen.add(key)
                    out.append(item)
    return out


def split_inline(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"\s*[;|•]\s*", value) if p.strip()]


def list_items(section: Section) -> list[str]:
    """Items of a list section: its bullets, or else its first paragraph of short lines."""
    items = split_inline(section.value)
    bulleted = False
    for line in content(section):
        if line.blank:
            if items and not bulleted:
                break
            continue
        if line.hit or is_sentence(line.text) or line.text.endswith("?"):
            if bulleted and not line.hit:
                break
            continue
        if line.marker:
            bulleted = True
        elif bulleted:
            break
        items.extend(split_inline(line.text))
    return items


def _prose(section: Section) -> str | None:
    paragraphs, current = [], []
    for line in value_line(section) + section.body:
        if line.blank:
            if current:
                paragraphs.append("\n".join(current))
                current = []
        else:
            current.append(f"* {line.text}" if line.marker == "*" else
                           (f"{line.marker} {line.text}" if line.marker else line.text))
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs) or None


def first_prose(sections: list[Section], name: str) -> str | None:
    """The first section so labelled that has text, as paragraphs (list markers kept)."""
    for section in sections:
        if section.name == name and (text := _prose(section)):
            return text
    return None
