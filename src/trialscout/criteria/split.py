"""Split an eligibility-criteria text block into inclusion / exclusion items.

Runs at ingest for every trial, so it is one linear pass over the lines with regexes compiled once at
import; nothing here is built per line. Heading wordings live in ``headings.json`` so new registry
phrasings are a data change, not a code change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["CriterionItem", "split_criteria"]


@dataclass(frozen=True, slots=True)
class CriterionItem:
    """One criterion. ``input[start:end]`` is its original span, children included, so a UI can
    highlight the whole criterion in the registry text."""

    kind: str  # "inclusion" | "exclusion" | "unknown"
    text: str
    start: int
    end: int
    children: tuple[CriterionItem, ...] = ()
    section: str | None = None


def _load() -> dict:
    return json.loads(resources.files(__package__).joinpath("headings.json").read_text("utf-8"))


_H = _load()
_NAMES = "|".join(f"(?:{n})" for n in _H["names"])
# Markdown emphasis/heading marks and the legacy "--Disease Characteristics--" dashes are decoration.
_DECOR = r"[#*_\s]*(?:--\s*)?"
# One anchored match serves both a heading on its own line and "DISEASE CHARACTERISTICS: text ...".
_HEAD = re.compile(rf"{_DECOR}(?P<name>{_NAMES})\s*(?:--)?[*_]*\s*(?::[*_]*\s*|$)", re.I)
_EXCL = re.compile("|".join(_H["exclusion_cues"]), re.I)
_INCL = re.compile("|".join(_H["inclusion_cues"]), re.I)
_FRAME = re.compile(_H["frame"], re.I)
_CUE_END = re.compile(r"(?::|\bif(?:\s+(?:they|you|he/she|she|he))?)[*_\s]*$", re.I)
_CUE_TAILS = (":", "if", "they", "you", "she", "he", "*", "_")
_STRIP_DECOR = re.compile(r"^[#*_\s-]+|[*_\s:-]+$")
# Bullets need trailing space (so "-5 mg" or "*p<0.05" stay text) except runs of dashes like "---IV".
_MARKER = re.compile(
    r"(?:(?P<bul>[*•·●○◦▪■□‣⁃+o–—-])\s+|-{2,}\s*|(?P<num>\d{1,3})(?P<np>[.)])\s+|\((?P<pnum>\d{1,3})\)\s*"
    r"|(?P<rom>(?:i{1,3}|iv|vi{0,3}|ix|x))(?P<rp>[.)])\s+|\((?P<prom>i{1,3}|iv|vi{0,3}|ix|x)\)\s*"
    r"|(?P<let>[A-Za-z])(?P<lp>[.)])\s+|\((?P<plet>[A-Za-z])\)\s*)(?=\S)"
)
_WS_RUN = re.compile(r"[ \t\r\f\v]+")


def _style(m: re.Match, first: str) -> str:
    """Marker families: a change of family after a ':' line signals a sub-list even at equal indent."""
    name = m.lastgroup
    if name is None:
        return "bul-"
    if name in ("lp", "plet"):
        return "let" + ("A" if first.isupper() else "a")  # "a." then "(b)" is still one list
    return name + m.group(name) if name in ("bul", "np", "rp", "lp") else name


def _heading_kind(name: str, current: str) -> str:
    """Legacy NCI sub-headings (DISEASE/PATIENT CHARACTERISTICS...) stay inside the current section,
    defaulting to inclusion, because NCI listed exclusions as 'No ...' items under them."""
    ex, inc = _EXCL.search(name), _INCL.search(name)
    if ex and not inc:
        return "exclusion"
    if inc and not ex:
        return "inclusion"
    if ex and inc and re.search(r"\bnon[- ]?inclusion\b|\bnot\b|ineligib", name, re.I):
        return "exclusion"
    return current if current != "unknown" else "inclusion"


@dataclass(slots=True)
class _Node:
    indent: int
    style: str | None  # None for an unmarked paragraph
    start: int
    end: int
    kind: str
    section: str | None
    parts: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def freeze(self) -> CriterionItem:
        if not self.children:
            return CriterionItem(self.kind, " ".join(self.parts), self.start, self.end, (), self.section)
        kids = tuple(c.freeze() for c in self.children)
        end = max(self.end, kids[-1].end)
        return CriterionItem(self.kind, " ".join(self.parts), self.start, end, kids, self.section)


def _squash(s: str) -> str:
    return _WS_RUN.sub(" ", s) if ("  " in s or "\t" in s) else s


def split_criteria(text: str | None) -> list[CriterionItem]:
    """Top-level criteria in order; sub-bullets are children so a matcher can treat "X defined as:"
    plus its conditions as one requirement. Intro sentences ("must meet all of the following criteria:")
    only name the section and never become items."""
    if not text or text.isspace():
        return []
    lines = text.split("\n")  # offsets stay exact: every line is followed by exactly one "\n"
    lengths = [len(s) for s in lines]
    # Legacy XML is hard-wrapped at 70-100 columns; there a short line means the paragraph ended,
    # while in unwrapped (API v2) text every line break is deliberate.
    width = max(lengths)
    wrapped = width <= 110 and sum(n >= 60 for n in lengths) >= 2
    items: list[_Node] = []
    stack: list[_Node] = []
    kind, section = "unknown", None
    since_heading = True  # no item yet under the current heading: an intro line keeps the heading's name
    blank, prev_len = True, 0

    def heading(name: str) -> None:
        nonlocal kind, section, since_heading
        new = _heading_kind(name, kind)
        clean = _STRIP_DECOR.sub("", name) or name.strip()
        if not (since_heading and new == kind and section is not None):
            section = clean
        kind, since_heading = new, True
        stack.clear()

    def add(node: _Node) -> None:
        nonlocal since_heading
        (stack[-1].children if stack else items).append(node)
        stack.append(node)
        since_heading = False

    off = 0
    for raw, size in zip(lines, lengths):
        line_off, off = off, off + size + 1
        body = raw.rstrip()
        content = body.lstrip()
        if not content:
            blank = True
            continue
        indent = len(body) - len(content)
        cstart = line_off + indent
        m = _MARKER.match(content)
        was_blank, last_len = blank, prev_len
        blank, prev_len = False, len(body)
        if m is None:
            if len(content) <= 160:
                if (content.endswith(_CUE_TAILS) and _CUE_END.search(content[-24:])
                        and (_EXCL.search(content) or _INCL.search(content)) and _FRAME.search(content.rstrip(" :*_"))):
                    heading(content)
                    continue
            hm = _HEAD.match(content)
            if hm:
                heading(content if hm.end() == len(content) else hm.group("name"))
                if hm.end() == len(content):
                    continue
                content, cstart = content[hm.end():], cstart + hm.end()
                was_blank = True
            top = stack[-1] if stack else None
            if top is not None and not was_blank and (indent > top.indent or _continues(content, wrapped, width, last_len)):
                top.parts.append(_squash(content))
                top.end = line_off + len(body)
                continue
            if top is not None and was_blank and top.style is not None and indent > top.indent:
                top.parts.append(_squash(content))  # Markdown: an indented paragraph belongs to the item
                top.end = line_off + len(body)
                continue
            while stack and not (indent > stack[-1].indent and stack[-1].parts[-1].endswith(":")):
                stack.pop()
            add(_Node(indent, None, cstart, line_off + len(body), kind, section, [_squash(content)]))
            continue
        rest = content[m.end():]
        if len(rest) <= 80 and (hm := _HEAD.match(rest)) and hm.end() == len(rest):  # "• Inclusion Criteria:" is still a heading
            heading(rest)
            continue
        style = _style(m, content[0])
        while stack:
            top = stack[-1]
            if indent > top.indent and (top.style is not None or top.parts[-1].endswith(":")):
                break
            if (indent == top.indent and top.style != style and top.parts[-1].endswith(":")
                    and (not top.children or top.children[0].style == style)):
                break
            stack.pop()
        add(_Node(indent, style, cstart, line_off + len(body), kind, section, [_squash(rest)]))
    return [n.freeze() for n in items]


def _continues(content: str, wrapped: bool, width: int, last_len: int) -> bool:
    """Whether an unmarked line right after another line (no blank between) carries on that item."""
    if content[0].islower() or not content[0].isalnum():
        return True
    if wrapped:
        return last_len >= 0.6 * width
    return False
