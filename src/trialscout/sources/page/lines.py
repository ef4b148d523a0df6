"""A pasted page as lines: cleaned text, list markers and headings, and the label each line carries.

Labels come in several shapes: "Label: value", tables flattened to "Label<TAB>value" or
"| Label | value |", "Label value" rows of a flattened table, a label on one line with its value
on the next, and "15 Participants Needed" (value first). A row without a separator is believed
only when its value parses as the field's, or when it sits among other label/value rows, so
ordinary sentences that happen to start with a label word are not read as fields.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..ctgov_json import _MD_ESCAPE
from ..errors import RecordError
from .values import parses_as
from .vocab import FREE, fold, lookup, vocabulary

MAX_CHARS = 5_000_000  # a copied page is kilobytes; anything this big is not one
_LONG_LINE = 400  # longer lines are prose: never a label, a heading or a title


@dataclass
class Hit:
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
class Line:
    no: int
    text: str  # without indentation, bullet or number marker, markdown heading marks or bold
    indent: int
    marker: str | None = None  # "*" for a bullet, "1." for a number
    heading: int = 0  # markdown '#' level or underline (strong heading)
    noise: bool = False
    hit: Hit | None = None

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


def prepare(text: str, origin: str) -> str:
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


def split_line(no: int, raw: str) -> Line:
    """Indentation, list marker and markdown heading of one line; labels are read later."""
    stripped = raw.strip()
    line = Line(no=no, text=stripped, indent=len(raw) - len(raw.lstrip()))
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


def _noise(line: Line) -> bool:
    return bool(line.text) and len(line.text) < 120 and bool(vocabulary().noise.search(line.text))


def _read_label(text: str) -> Hit | None:
    """The label a line starts with (or ends with, for '15 Participants Needed'), if any."""
    if len(text) > _LONG_LINE:
        return None
    vocab = vocabulary()
    # Explicit separators: table cells, tab, colon, a wide gap.
    if "|" in text:
        cells = [c.strip() for c in text.strip().strip("|").split("|")]
        if len(cells) == 2 and (hit := lookup(cells[0])):
            return Hit(hit[0], hit[1], cells[1], "sep" if cells[1] else "alone", hit[2])
        if len(cells) > 2:
            return None
    for pattern in (r"^([^\t]{1,80}?)\t+(.*)$", r"^([^:：]{1,80}?)\s*[:：]\s*(?!//)(.*)$", r"^(\S.{0,79}?)\s{2,}(\S.*)$"):
        if (m := re.match(pattern, text)) and (hit := lookup(m.group(1))):
            value = m.group(2).strip()
            return Hit(hit[0], hit[1], value, "sep" if value else "alone", hit[2])
    if hit := lookup(text):
        return Hit(hit[0], hit[1], "", "alone", hit[2])
    tokens = text.split()
    if not 2 <= len(tokens) <= 16:
        return None
    # "Label value" with no separator: a row of a table flattened to text.
    if _quick(tokens[0]) in vocab.first_words:
        for n in range(min(6, len(tokens) - 1), 0, -1):
            if hit := lookup(" ".join(tokens[:n])):
                value = " ".join(tokens[n:])
                if parses_as(hit[1], value):
                    return Hit(hit[0], hit[1], value, "typed", hit[2])
                if hit[1] in FREE and not text.endswith(".") and len(tokens) <= 12:
                    # "Sponsored by X": a label ending in 'by' is its own separator.
                    form = "sep" if tokens[n - 1].casefold() == "by" else "loose"
                    return Hit(hit[0], hit[1], value, form, hit[2])
                break
    # "value Label": trial finders write "15 Participants Needed".
    if _quick(tokens[-1]) not in vocab.last_words:
        return None
    for n in range(1, min(5, len(tokens))):
        name = vocab.value_first.get(fold(" ".join(tokens[-n:])))
        if name and parses_as(name, " ".join(tokens[:-n])):
            return Hit("field", name, " ".join(tokens[:-n]), "typed")
    return None


def _quick(word: str) -> str:
    """A cheap fold of one word, to rule most lines out before trying their prefixes as labels."""
    return re.sub(r"['’‘`]", "", word.casefold()).strip(".,:;()[]*#_-")


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
        labels = [lookup(c) for c in header] if len(header) > 2 or (len(header) == 2 and "|" in raws[i]) else []
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


def read_lines(text: str) -> list[Line]:
    """The prepared text's lines, with headings, noise and labels marked."""
    lines = [split_line(no, raw) for no, raw in enumerate(_unfold_tables(text.split("\n")))]
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


def _accept_loose_rows(lines: list[Line]) -> None:
    """Keep a free-text "Label value" row only inside a run of label/value rows (a flattened table):
    alone, "Contact Us" or "Source of the data" is ordinary text."""
    run: list[Line] = []
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


def is_sentence(text: str) -> bool:
    """Prose rather than a name or list item (boilerplate such as 'See the conditions this study targets.')."""
    words = text.split()
    if len(words) >= 16 or (text.endswith((".", "!")) and len(words) >= 5):
        return True
    verbs = {"is", "are", "was", "were", "will", "be", "been", "have", "has", "had", "can", "may", "must", "should",
             "would", "could", "do", "does", "receive", "provides"}
    return len(words) >= 9 and bool(verbs & {w.casefold() for w in words})
