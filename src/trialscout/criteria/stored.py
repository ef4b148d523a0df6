"""Parsed criteria kept in the store, beside the trials, so matching never parses twice.

The criteria stage owns its table (the store stage knows nothing of criteria). A row is valid while
its trial's content hash, the parser version and the lexicon version are unchanged; anything else is
re-parsed, so an updated trial or a better parser never serves stale criteria.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

from pydantic import TypeAdapter

from trialscout.store.writer import decode

from .lexicon import lexicon
from .model import Criterion
from .nlp import mentions
from .parse import PARSER_VERSION, parse_criteria

__all__ = ["criteria_for", "parse_pending", "pending_count", "preload_criteria", "studied_conditions"]

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
    # pydantic-core's own JSON reader: a quarter faster than orjson.loads + validate_python.
    return _LIST.validate_json(zlib.decompress(blob))


# Decoding is most of what reading stored criteria costs (~250 us a trial), and a server asks for the
# same trials for every patient, so decoded criteria stay in memory. The key is the record's content
# hash and the parser version, which fix the parse whatever store or row holds the record. Criteria
# are frozen models, so sharing them is safe. ~125 KB a trial: the bound keeps this under ~2.5 GB.
_DECODED_MAX = 20_000
_decoded: dict[tuple[str, str], list[Criterion]] = {}
# The conditions a trial studies (studied_conditions), keyed by content hash, which fixes them too.
_studied: dict[str, frozenset[str]] = {}


def _keep(digest: str, version: str, criteria: list[Criterion]) -> None:
    if len(_decoded) >= _DECODED_MAX:
        _decoded.pop(next(iter(_decoded)))  # oldest first
    _decoded[(digest, version)] = criteria


_STALE = ("FROM trials t LEFT JOIN parsed_criteria p ON p.trial = t.rowid "
          "WHERE p.trial IS NULL OR p.content_hash != t.content_hash OR p.version != ?")


def pending_count(conn: sqlite3.Connection) -> int:
    if not _ensure(conn):
        return conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    return conn.execute(f"SELECT count(*) {_STALE}", (_version(),)).fetchone()[0]


# Registries repeat whole eligibility texts (site copies, sister studies, templates): the encoded parse
# of a text is kept, so a repeat costs a dict lookup. Bounded so memory stays flat (~100 MB at most).
_TEXT_CACHE_MAX = 16384
_text_cache: dict[str, bytes] = {}


def _parsed_blob(text: str) -> bytes:
    blob = _text_cache.get(text)
    if blob is None:
        blob = _encode(parse_criteria(text))
        _remember(text, blob)
    return blob


def _remember(text: str, blob: bytes) -> None:
    if len(_text_cache) >= _TEXT_CACHE_MAX:
        _text_cache.pop(next(iter(_text_cache)))  # oldest first
    _text_cache[text] = blob


def _parse_many(texts: list[str]) -> list[bytes]:  # runs in a worker process
    return [_parsed_blob(t) for t in texts]


# The text comes from the full-text index (which stores it verbatim), so a pending trial is parsed
# without decoding its whole record; the rowid cursor makes one pass, never rescanning parsed rows.
_PENDING = ("SELECT t.rowid, t.content_hash, f.criteria, t.record IS NOT NULL AND f.rowid IS NULL "
            "FROM trials t LEFT JOIN parsed_criteria p ON p.trial = t.rowid "
            "LEFT JOIN trials_fts f ON f.rowid = t.rowid "
            "WHERE t.rowid > ? AND (p.trial IS NULL OR p.content_hash != t.content_hash OR p.version != ?) "
            "ORDER BY t.rowid LIMIT ?")


def parse_pending(conn: sqlite3.Connection, *, batch_size: int = 500,
                  progress: Callable[[int], None] | None = None, workers: int = 1) -> int:
    """Parse every trial whose stored criteria are missing or stale; returns how many were parsed.
    Each batch commits on its own, so an interrupted run keeps what it finished. ``workers`` > 1
    parses the distinct new texts of each batch in that many forked processes (Linux/macOS)."""
    _ensure(conn)
    version = _version()
    done, last = 0, 0
    pool = None
    try:
        while True:
            rows = conn.execute(_PENDING, (last, version, batch_size)).fetchall()
            if not rows:
                return done
            last = rows[-1][0]
            texts = []
            for rowid, _, text, missing in rows:
                if missing:  # no index row (should not happen): read the record itself
                    trial = decode(conn.execute("SELECT record FROM trials WHERE rowid = ?", (rowid,)).fetchone()[0])
                    text = trial.eligibility.criteria if trial.eligibility else None
                texts.append(text or "")
            new = [t for t in dict.fromkeys(texts) if t not in _text_cache]
            if workers > 1 and len(new) >= 4 * workers:
                if pool is None:
                    pool = _fork_pool(workers)
                chunks = [new[i::workers * 4] for i in range(workers * 4)]
                for chunk, blobs in zip(chunks, pool.map(_parse_many, chunks)):
                    for text, blob in zip(chunk, blobs):
                        _remember(text, blob)
            local = {t: _parsed_blob(t) for t in new}  # parsed here, or just fetched from the cache
            out = [(rowid, digest, version, local.get(text) or _parsed_blob(text))
                   for (rowid, digest, _, _), text in zip(rows, texts)]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR REPLACE INTO parsed_criteria VALUES (?, ?, ?, ?)", out)
            conn.execute("COMMIT")
            done += len(out)
            if progress:
                progress(len(out))
    finally:
        if pool is not None:
            pool.close()
            pool.join()


def _fork_pool(workers: int):
    import multiprocessing

    lexicon()  # loaded once here, shared with the forked workers
    parse_criteria("Platelets >= 100,000/mm3")  # load the NLP pipeline before forking
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return multiprocessing.get_context(method).Pool(workers)


def criteria_for(conn: sqlite3.Connection, trial_id: str) -> list[Criterion] | None:
    """The parsed criteria of a stored trial (by id or NCT id), parsing and saving them if stale.
    None when the trial is not in the store."""
    row = None
    # By the unique index on id (the NCT id when there is one); "OR nct_id = ?" made SQLite scan the table.
    for key in dict.fromkeys((trial_id, trial_id.upper())):
        row = row or conn.execute("SELECT rowid, content_hash FROM trials WHERE id = ?", (key,)).fetchone()
    if row is None:
        return None
    rowid, digest = row
    version = _version()
    kept = _decoded.get((digest, version))
    if kept is not None:
        return list(kept)  # a copy: the caller may reorder its list
    if _ensure(conn):
        hit = conn.execute("SELECT data FROM parsed_criteria WHERE trial = ? AND content_hash = ? AND version = ?",
                           (rowid, digest, version)).fetchone()
        if hit:
            parsed = _decode(hit[0])
            _keep(digest, version, parsed)
            return list(parsed)
    trial = decode(conn.execute("SELECT record FROM trials WHERE rowid = ?", (rowid,)).fetchone()[0])
    parsed = parse_criteria(trial.eligibility.criteria if trial.eligibility else None)
    try:
        conn.execute("INSERT OR REPLACE INTO parsed_criteria VALUES (?, ?, ?, ?)",
                     (rowid, digest, version, _encode(parsed)))
    except sqlite3.OperationalError:
        pass  # read-only store: serve the fresh parse without saving it
    _keep(digest, version, parsed)
    return list(parsed)


_OPEN = ("RECRUITING", "NOT_YET_RECRUITING")


def preload_criteria(conn: sqlite3.Connection, statuses: tuple[str, ...] = _OPEN, limit: int = _DECODED_MAX) -> int:
    """Decode the stored criteria of trials with these statuses (up to ``limit``, newest rows first),
    and read the conditions they study, into memory, so a server's first patients don't pay for it.
    Returns how many trials are held.
    Trials whose stored parse is stale are left to criteria_for, which re-parses them."""
    if not _ensure(conn):
        return 0
    version = _version()
    marks = ", ".join("?" * len(statuses))
    rows = conn.execute(
        "SELECT t.content_hash, p.data, f.conditions, f.mesh FROM trials t JOIN parsed_criteria p "
        "ON p.trial = t.rowid AND p.content_hash = t.content_hash AND p.version = ? "
        "LEFT JOIN trials_fts f ON f.rowid = t.rowid "
        f"WHERE t.rowid IN (SELECT trial FROM facets WHERE facet = 'status' AND value IN ({marks})) "
        "ORDER BY t.rowid DESC LIMIT ?", (version, *statuses, min(limit, _DECODED_MAX)))
    held = 0
    for digest, blob, conditions, mesh in rows:
        if (digest, version) not in _decoded:
            _keep(digest, version, _decode(blob))
        if digest not in _studied:  # reading them costs ~1 ms a trial (the NLP pipeline)
            _keep_studied(digest, conditions, mesh)
        held += 1
    return held


def studied_conditions(conn: sqlite3.Connection, trial_id: str) -> frozenset[str]:
    """The lexicon conditions a stored trial is about (its conditions and MeSH terms, as the full-text
    index holds them): matching needs them to read "concurrent malignancy" in a trial for a cancer as
    another malignancy than that one."""
    row = conn.execute("SELECT rowid, content_hash FROM trials WHERE id = ?", (trial_id,)).fetchone()
    if row is None:
        return frozenset()
    rowid, digest = row
    found = _studied.get(digest)
    if found is None:  # the full-text index is read only now: a join with it costs 3x the lookup
        text = conn.execute("SELECT conditions, mesh FROM trials_fts WHERE rowid = ?", (rowid,)).fetchone()
        found = _keep_studied(digest, *(text or (None, None)))
    return found


def _keep_studied(digest: str, conditions: str | None, mesh: str | None) -> frozenset[str]:
    if len(_studied) >= _DECODED_MAX:
        _studied.pop(next(iter(_studied)))
    text = "\n".join(t for t in (conditions, mesh) if t)
    found = _studied[digest] = frozenset(m.concept for m in mentions(text) if m.kind == "condition")
    return found
