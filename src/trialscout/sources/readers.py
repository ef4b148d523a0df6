"""Find trial records in files, directories and zips, and stream them one at a time.

Every path yields ``Trial`` objects, or ``RecordError`` values for what could not be read:
a bad record never stops the records around it. The format is sniffed from the bytes
(gzip, zip, JSON, XML), not trusted from the file name.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Union

import ijson
import orjson

from trialscout.model import Trial

from .ctgov_json import trial_from_json
from .ctgov_xml import parse_xml_record
from .errors import RecordError
from .placing import place_sites

Item = Union[Trial, RecordError]
# Called with a label, the amount consumed so far, the total when known, and the unit of both:
# "bytes" for files read as streams, "records" for zip members.
Progress = Callable[[str, int, "int | None", str], None]

_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".xml", ".xml.gz", ".zip", ".gz")
_LINES_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_FIRST_KEY = re.compile(rb'^\s*\{\s*"([^"]*)"')
_PAGE_KEYS = {b"studies", b"nextPageToken", b"totalCount"}


def read_paths(paths: list[Path], progress: Progress | None = None) -> Iterator[Item]:
    for path in paths:
        yield from read_path(Path(path), progress)


def read_path(path: Path, progress: Progress | None = None) -> Iterator[Item]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_SUFFIXES))
        if not files:
            yield RecordError(str(path), "directory holds no .json, .jsonl, .xml or .zip files")
        for file in files:
            yield from read_path(file, progress)
        return
    if not path.exists():
        yield RecordError(str(path), "no such file or directory")
        return
    try:
        with open(path, "rb") as raw:
            head = raw.read(4)
            raw.seek(0)
            if head.startswith(b"PK"):
                yield from _read_zip(path, progress)
                return
            counted = _Counting(raw, str(path), os.path.getsize(path), progress)
            stream: IO[bytes] = gzip.GzipFile(fileobj=counted) if head[:2] == b"\x1f\x8b" else counted
            yield from read_stream(stream, str(path))
    except OSError as exc:
        yield RecordError(str(path), f"cannot read file: {exc.strerror or exc}")


def read_stream(stream: IO[bytes], origin: str) -> Iterator[Item]:
    """Records in one byte stream: a JSON study, page, array or JSON Lines, or one XML record."""
    try:
        head = stream.peek(65536)[:65536] if hasattr(stream, "peek") else b""
    except (OSError, EOFError, zlib.error) as exc:
        yield RecordError(origin, f"cannot decompress: {exc}")
        return
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        yield _xml(stream.read(), origin)
    elif start == b"[":
        yield from _json_items(stream, origin, "item")
    elif start == b"{":
        first = _FIRST_KEY.match(head)
        if first and first.group(1) in _PAGE_KEYS:
            yield from _json_items(stream, origin, "studies.item")
        elif origin.lower().endswith(_LINES_SUFFIXES) or (b"\n{" in head.rstrip() and _is_json_lines(head)):
            yield from _json_lines(stream, origin)
        else:
            yield from _json_single(stream.read(), origin)
    elif not start:
        yield RecordError(origin, "file is empty")
    else:
        yield RecordError(origin, "not a ClinicalTrials.gov record: expected JSON or XML")


def _is_json_lines(head: bytes) -> bool:
    line = head.split(b"\n", 1)[0]
    try:
        orjson.loads(line)
        return True
    except orjson.JSONDecodeError:
        return False


def _xml(data: bytes, origin: str) -> Item:
    try:
        return place_sites(parse_xml_record(data, origin))
    except RecordError as exc:
        return exc


def _study(obj: object, origin: str) -> Item:
    try:
        return place_sites(trial_from_json(obj, origin))  # type: ignore[arg-type]
    except RecordError as exc:
        return exc


def _record_origin(origin: str, index: int, obj: object) -> str:
    nct = None
    if isinstance(obj, dict):
        nct = ((obj.get("protocolSection") or {}).get("identificationModule") or {}).get("nctId")
    return f"{origin} record {index}" + (f" ({nct})" if isinstance(nct, str) else "")


def _json_items(stream: IO[bytes], origin: str, prefix: str) -> Iterator[Item]:
    index = 0
    try:
        for index, obj in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
            yield _study(obj, _record_origin(origin, index, obj))
    except (ijson.JSONError, UnicodeDecodeError, EOFError, zlib.error, OSError) as exc:
        yield RecordError(origin, f"{_json_problem(exc)} after record {index}; the rest of the file was not read")


def _json_lines(stream: IO[bytes], origin: str) -> Iterator[Item]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RecordError(f"{origin} line {number}", f"invalid JSON: {exc}")
            continue
        yield _study(obj, _record_origin(origin, number, obj))


def _json_single(data: bytes, origin: str) -> Iterator[Item]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "after document" in str(exc):  # JSON Lines whose first record is longer than the sniffed head
            yield from _json_lines(io.BytesIO(data), origin)
        else:
            yield RecordError(origin, f"invalid JSON: {exc}")
        return
    yield _study(obj, origin)


def _json_problem(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError) or "utf" in text.lower():
        return f"not valid UTF-8 ({text})"
    if isinstance(exc, ijson.IncompleteJSONError) and "premature" in text.lower():
        return "file ends in the middle of a record (truncated?)"
    return f"invalid JSON ({text})"


def _read_zip(path: Path, progress: Progress | None) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        # A truncated download loses the central directory at the end of the file; the
        # members before the cut are still whole, so read them from their local headers.
        yield RecordError(str(path), "zip is damaged or truncated (no central directory); reading what is left")
        yield from _salvage_zip(path)
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(_SUFFIXES)]
        for done, member in enumerate(members, start=1):
            origin = f"{path}:{member.filename}"
            try:
                data = archive.read(member)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                yield RecordError(origin, f"damaged zip member: {exc}")
                continue
            yield from _member(data, origin)
            if progress:
                progress(str(path), done, len(members), "records")


def _member(data: bytes, origin: str) -> Iterator[Item]:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            yield RecordError(origin, f"cannot decompress: {exc}")
            return
    yield from read_stream(io.BufferedReader(io.BytesIO(data)), origin)


_LOCAL = struct.Struct("<4sHHHHHIIIHH")


def _salvage_zip(path: Path) -> Iterator[Item]:
    with open(path, "rb") as f:
        while True:
            header = f.read(_LOCAL.size)
            if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
                return
            _, _, flags, method, _, _, _, csize, _, name_len, extra_len = _LOCAL.unpack(header)
            name = f.read(name_len).decode("utf-8", "replace")
            f.read(extra_len)
            origin = f"{path}:{name}"
            if flags & 0x08 or method not in (0, 8):
                yield RecordError(origin, "cannot salvage this member (streamed or unusual compression)")
                return
            body = f.read(csize)
            if len(body) < csize:
                yield RecordError(origin, "member cut off by the truncation")
                return
            if name.endswith("/") or not name.lower().endswith(_SUFFIXES):
                continue
            try:
                data = zlib.decompress(body, -15) if method == 8 else body
            except zlib.error as exc:
                yield RecordError(origin, f"damaged zip member: {exc}")
                continue
            yield from _member(data, origin)


class _Counting(io.RawIOBase):
    """Passes reads through and reports the bytes consumed, for a progress bar by size."""

    def __init__(self, raw: IO[bytes], label: str, total: int, progress: Progress | None):
        self._raw, self._label, self._total, self._progress, self._done = raw, label, total, progress, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        self._done += n or 0
        if self._progress:
            self._progress(self._label, self._done, self._total, "bytes")
        return n or 0

    def peek(self, size: int = 0) -> bytes:
        pos = self._raw.tell()
        data = self._raw.read(size or 65536)
        self._raw.seek(pos)
        return data

    def __iter__(self):  # JSON Lines reads line by line
        return iter(io.BufferedReader(self))


def read_studies(studies, origin: str) -> Iterator[Item]:
    """API v2 study dicts already in memory (the live API's pages) as Items."""
    for index, obj in enumerate(studies, start=1):
        yield _study(obj, _record_origin(origin, index, obj))
