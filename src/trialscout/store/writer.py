"""Write trials into the store: idempotent, newest version wins, one transaction per batch."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from trialscout.model import Trial
from trialscout.sources.errors import RecordError

_EXCLUDE = {"title"}  # computed from the other fields on load


def encode(trial: Trial) -> bytes:
    return trial.model_dump_json(exclude=_EXCLUDE).encode()


def decode(blob: bytes) -> Trial:
    return Trial.model_validate(orjson.loads(zlib.decompress(blob)))


@dataclass
class IngestSummary:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # the store already had a newer version
    skipped: list[RecordError] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.older

    def skip_reasons(self) -> Counter[str]:
        return Counter(e.problem.split(":")[0] for e in self.skipped)

    def as_dict(self) -> dict:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "older_kept": self.older, "skipped": len(self.skipped),
                "skips": [{"origin": e.origin, "problem": e.problem} for e in self.skipped]}


def ingest(conn: sqlite3.Connection, items: Iterable[Trial | RecordError], *, batch_size: int = 500,
           on_skip=None) -> IngestSummary:
    """Store every trial; a batch is committed whole or not at all, so a killed run
    leaves a consistent store and rerunning the same input completes it.

    Per batch: one lookup for the ids already stored, then each table is written with one
    executemany (new rows get consecutive rowids), so the per-record cost is the encoding, not
    thousands of separate statements (see docs/scale.md for the profile)."""
    summary = IngestSummary()
    for batch in _batches(items, batch_size, summary, on_skip):
        prepared = [(trial, *_encoded(trial)) for trial in batch]  # outside the write lock
        conn.execute("BEGIN IMMEDIATE")
        try:
            _write_batch(conn, prepared, summary)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return summary


def _batches(items, size, summary, on_skip) -> Iterator[list[Trial]]:
    batch: list[Trial] = []
    for item in items:
        if isinstance(item, RecordError):
            summary.skipped.append(item)
            if on_skip:
                on_skip(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _encoded(trial: Trial) -> tuple[bytes, str]:
    data = encode(trial)
    return data, hashlib.sha1(data).hexdigest()


_COLUMNS = ("id, nct_id, source, title, overall_status, study_type, phases, sex, min_age_years, max_age_years, "
            "healthy_volunteers, sponsor, sponsor_class, enrollment, last_update, content_hash, record")
_INSERT = f"INSERT INTO trials (rowid, {_COLUMNS}) VALUES ({','.join('?' * 18)})"
_REPLACE = f"REPLACE INTO trials (rowid, {_COLUMNS}) VALUES ({','.join('?' * 18)})"
_FTS = ("INSERT INTO trials_fts (rowid, title, conditions, interventions, mesh, keywords, summary, "
        "description, criteria) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_LOOKUP_CHUNK = 500  # ids per "WHERE id IN (...)" (SQLite's default variable limit is far higher)


class _Derived:
    """Rows of the derived tables for a batch, written together by flush()."""

    def __init__(self) -> None:
        self.trials: list[tuple] = []
        self.facets: list[tuple] = []
        self.aliases: list[tuple] = []
        self.sites: list[tuple] = []
        self.fts: list[tuple] = []

    def add(self, rowid: int, t: Trial) -> None:
        self.facets.extend((f, v, rowid) for f, v in facet_values(t))
        others = {a for a in [*t.aliases, *t.secondary_ids, t.org_study_id] if a and a != t.id}
        self.aliases.extend((a, rowid) for a in others)
        self.sites.extend((rowid, idx, s.lat, s.lon) for idx, s in enumerate(t.locations)
                          if s.lat is not None and s.lon is not None)
        self.fts.append((rowid, *fts_columns(t)))

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.trials:
            conn.executemany(_INSERT, self.trials)
        conn.executemany("INSERT OR IGNORE INTO facets (facet, value, trial) VALUES (?, ?, ?)", self.facets)
        conn.executemany("INSERT OR IGNORE INTO aliases (alias, trial) VALUES (?, ?)", self.aliases)
        if self.sites:
            last = conn.execute("SELECT coalesce(max(id), 0) FROM sites").fetchone()[0]
            conn.executemany("INSERT INTO sites (trial, idx, lat, lon) VALUES (?, ?, ?, ?)", self.sites)
            conn.execute("INSERT INTO sites_box SELECT id, lat, lat, lon, lon FROM sites WHERE id > ?", (last,))
        conn.executemany(_FTS, self.fts)
        self.__init__()


def _write_batch(conn: sqlite3.Connection, prepared: list[tuple[Trial, bytes, str]], summary: IngestSummary) -> None:
    ids = list(dict.fromkeys(t.id for t, _, _ in prepared))
    stored: dict[str, tuple[int, str | None, str]] = {}
    for i in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[i:i + _LOOKUP_CHUNK]
        for rowid, ident, last_update, digest in conn.execute(
                f"SELECT rowid, id, last_update, content_hash FROM trials WHERE id IN ({','.join('?' * len(chunk))})",
                chunk):
            stored[ident] = (rowid, last_update, digest)
    next_rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM trials").fetchone()[0] + 1
    pending = _Derived()
    for trial, data, digest in prepared:
        row = stored.get(trial.id)
        if row is None:
            rowid, next_rowid = next_rowid, next_rowid + 1
            summary.inserted += 1
            pending.trials.append((rowid, *_values(trial, zlib.compress(data, 1), digest)))
        else:
            rowid, stored_update, stored_hash = row
            incoming = trial.last_update or ""
            if stored_hash == digest:
                summary.unchanged += 1
                continue
            if incoming < (stored_update or ""):
                summary.older += 1
                continue
            # Newer, or the same version with corrected content: the incoming record wins.
            pending.flush(conn)  # the row may have been written earlier in this batch
            _delete_derived(conn, rowid)
            summary.updated += 1
            conn.execute(_REPLACE, (rowid, *_values(trial, zlib.compress(data, 1), digest)))
        stored[trial.id] = (rowid, trial.last_update, digest)
        pending.add(rowid, trial)
    pending.flush(conn)


def _values(t: Trial, blob: bytes, digest: str) -> tuple:
    e = t.eligibility
    return (t.id, t.nct_id, t.source, t.title, t.overall_status, t.study_type, ",".join(t.phases) or None,
            e.sex if e else None, e.minimum_age.years if e and e.minimum_age else None,
            e.maximum_age.years if e and e.maximum_age else None,
            None if not e or e.healthy_volunteers is None else int(e.healthy_volunteers),
            t.lead_sponsor.name if t.lead_sponsor else None, t.lead_sponsor.cls if t.lead_sponsor else None,
            t.enrollment, t.last_update, digest, blob)


def facet_values(t: Trial) -> set[tuple[str, str]]:
    e = t.eligibility
    pairs = {("status", t.overall_status), ("study_type", t.study_type), ("source", t.source),
             ("sponsor_class", t.lead_sponsor.cls if t.lead_sponsor else None)}
    pairs |= {("phase", p) for p in t.phases}
    pairs |= {("intervention_type", i.type) for i in t.interventions}
    pairs |= {("country", loc.country) for loc in t.locations}
    if e:
        pairs |= {("sex", e.sex)} | {("std_age", a) for a in e.std_ages}
        if e.healthy_volunteers is not None:
            pairs.add(("healthy_volunteers", "yes" if e.healthy_volunteers else "no"))
    return {(f, v) for f, v in pairs if v}


def fts_columns(t: Trial) -> tuple[str, ...]:
    mesh = t.condition_mesh + t.condition_mesh_ancestors + t.intervention_mesh + t.intervention_mesh_ancestors
    return ("\n".join(x for x in (t.brief_title, t.official_title, t.acronym) if x),
            "\n".join(t.conditions),
            "\n".join([i.name for i in t.interventions] + [n for i in t.interventions for n in i.other_names]),
            "\n".join(m.term for m in mesh),
            "\n".join(t.keywords),
            t.brief_summary or "",
            t.detailed_description or "",
            (t.eligibility.criteria if t.eligibility else None) or "")


def _delete_derived(conn, rowid: int) -> None:
    conn.execute("DELETE FROM facets WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM aliases WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM sites_box WHERE id IN (SELECT id FROM sites WHERE trial = ?)", (rowid,))
    conn.execute("DELETE FROM sites WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM trials_fts WHERE rowid = ?", (rowid,))
