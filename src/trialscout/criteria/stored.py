"""Parsed criteria kept in the store, beside the trials, so matching never parses twice.

The criteria stage owns its table (the store stage knows nothing of criteria). A row is valid while
its trial's content hash, the parser version and the lexicon version are unchanged; anything else is
re-parsed, so an updated trial or a better parser never serves stale criteria.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

import orjson
from pydantic import TypeAdapter

from trialscout.store.writer import decode

from .lexicon import lexicon
from .model import Criterion
from .parse import PARSER_VERSION, parse_criteria

__all__ = ["criteria_for", "parse_pending", "pending_count"]

_TABLE = """CREATE TABLE IF NOT EXISTS parsed_criteria (
    trial INTEGER PRIMARY KEY,  -- trials.rowid
    content_hash TEXT NOT NULL,
    version TEXT NOT NULL,      -- parser version + lexicon version
    data BLOB NOT NULL          -- zlib-compressed JSON list of Criterion
)"""
_LIST = TypeAdapter(list[Criterion])


def _version() -> str:
    return f"{PARSER_VERSION}/{lexicon().version}"


def _ensure(conn: sqlite3.Connection) -> bool:
    """Create the table if the store is writable; False when it can't exist (read-only, never parsed)."""
    try:
        conn.execute(_TABLE)
        return True
    except sqlite3.OperationalError:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'parsed_criteria'").fetchone())


def _encode(criteria: list[Criterion]) -> bytes:
    # "kind" is computed from the facts on load, so it is not stored.
    return zlib.compress(_LIST.dump_json(criteria, exclude={"__all__": {"kind"}}), 6)


def _decode(blob: bytes) -> list[Criterion]:
    return _LIST.validate_python(orjson.loads(zlib.decompress(blob)))


_STALE = ("FROM trials t LEFT JOIN parsed_criteria p ON p.trial = t.rowid "
          "WHERE p.trial IS NULL OR p.content_hash != t.content_hash OR p.version != ?")


def pending_count(conn: sqlite3.Connection) -> int:
    if not _ensure(conn):
        return conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    return conn.execute(f"SELECT count(*) {_STALE}", (_version(),)).fetchone()[0]


def parse_pending(conn: sqlite3.Connection, *, batch_size: int = 200,
                  progress: Callable[[int], None] | None = None) -> int:
    """Parse every trial whose stored criteria are missing or stale; returns how many were parsed.
    Each batch commits on its own, so an interrupted run keeps what it finished."""
    _ensure(conn)
    version = _version()
    done = 0
    while True:
        rows = conn.execute(f"SELECT t.rowid, t.content_hash, t.record {_STALE} LIMIT ?",
                            (version, batch_size)).fetchall()
        if not rows:
            return done
        out = []
        for rowid, digest, record in rows:
            trial = decode(record)
            text = trial.eligibility.criteria if trial.eligibility else None
            out.append((rowid, digest, version, _encode(parse_criteria(text))))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT OR REPLACE INTO parsed_criteria VALUES (?, ?, ?, ?)", out)
        conn.execute("COMMIT")
        done += len(out)
        if progress:
            progress(len(out))


def criteria_for(conn: sqlite3.Connection, trial_id: str) -> list[Criterion] | None:
    """The parsed criteria of a stored trial (by id or NCT id), parsing and saving them if stale.
    None when the trial is not in the store."""
    row = conn.execute("SELECT rowid, content_hash, record FROM trials WHERE id = ? OR nct_id = ?",
                       (trial_id, trial_id.upper())).fetchone()
    if row is None:
        return None
    rowid, digest, record = row
    if _ensure(conn):
        hit = conn.execute("SELECT data FROM parsed_criteria WHERE trial = ? AND content_hash = ? AND version = ?",
                           (rowid, digest, _version())).fetchone()
        if hit:
            return _decode(hit[0])
    trial = decode(record)
    parsed = parse_criteria(trial.eligibility.criteria if trial.eligibility else None)
    try:
        conn.execute("INSERT OR REPLACE INTO parsed_criteria VALUES (?, ?, ?, ?)",
                     (rowid, digest, _version(), _encode(parsed)))
    except sqlite3.OperationalError:
        pass  # read-only store: serve the fresh parse without saving it
    return parsed
