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
    leaves a consistent store and rerunning the same input completes it."""
    summary = IngestSummary()
    for batch in _batches(items, batch_size, summary, on_skip):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for trial in batch:
                _upsert(conn, trial, summary)
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


def _upsert(conn: sqlite3.Connection, trial: Trial, summary: IngestSummary) -> None:
    data = encode(trial)
    digest = hashlib.sha1(data).hexdigest()
    row = conn.execute("SELECT rowid, last_update, content_hash FROM trials WHERE id = ?", (trial.id,)).fetchone()
    if row is None:
        rowid = None
        summary.inserted += 1
    else:
        rowid, stored_update, stored_hash = row
        incoming = trial.last_update or ""
        if stored_hash == digest:
            summary.unchanged += 1
            return
        if incoming < (stored_update or ""):
            summary.older += 1
            return
        # Newer, or the same version with corrected content: the incoming record wins.
        _delete_derived(conn, rowid)
        summary.updated += 1
    rowid = _write_row(conn, rowid, trial, zlib.compress(data, 1), digest)
    _write_derived(conn, rowid, trial)


def _write_row(conn, rowid, t: Trial, blob: bytes, digest: str) -> int:
    e = t.eligibility
    values = (t.id, t.nct_id, t.source, t.title, t.overall_status, t.study_type, ",".join(t.phases) or None,
              e.sex if e else None, e.minimum_age.years if e and e.minimum_age else None,
              e.maximum_age.years if e and e.maximum_age else None,
              None if not e or e.healthy_volunteers is None else int(e.healthy_volunteers),
              t.lead_sponsor.name if t.lead_sponsor else None, t.lead_sponsor.cls if t.lead_sponsor else None,
              t.enrollment, t.last_update, digest, blob)
    columns = ("id, nct_id, source, title, overall_status, study_type, phases, sex, min_age_years, max_age_years, "
               "healthy_volunteers, sponsor, sponsor_class, enrollment, last_update, content_hash, record")
    if rowid is None:
        cur = conn.execute(f"INSERT INTO trials ({columns}) VALUES ({','.join('?' * len(values))})", values)
        return cur.lastrowid
    conn.execute(f"REPLACE INTO trials (rowid, {columns}) VALUES (?, {','.join('?' * len(values))})",
                 (rowid, *values))
    return rowid


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


def _write_derived(conn, rowid: int, t: Trial) -> None:
    conn.executemany("INSERT OR IGNORE INTO facets (facet, value, trial) VALUES (?, ?, ?)",
                     [(f, v, rowid) for f, v in facet_values(t)])
    others = {a for a in [*t.aliases, *t.secondary_ids, t.org_study_id] if a and a != t.id}
    conn.executemany("INSERT OR IGNORE INTO aliases (alias, trial) VALUES (?, ?)", [(a, rowid) for a in others])
    placed = [(rowid, idx, s.lat, s.lon) for idx, s in enumerate(t.locations) if s.lat is not None and s.lon is not None]
    if placed:
        conn.executemany("INSERT INTO sites (trial, idx, lat, lon) VALUES (?, ?, ?, ?)", placed)
        conn.execute("INSERT INTO sites_box SELECT id, lat, lat, lon, lon FROM sites WHERE trial = ?", (rowid,))
    conn.execute("INSERT INTO trials_fts (rowid, title, conditions, interventions, mesh, keywords, summary, "
                 "description, criteria) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (rowid, *fts_columns(t)))


def _delete_derived(conn, rowid: int) -> None:
    conn.execute("DELETE FROM facets WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM aliases WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM sites_box WHERE id IN (SELECT id FROM sites WHERE trial = ?)", (rowid,))
    conn.execute("DELETE FROM sites WHERE trial = ?", (rowid,))
    conn.execute("DELETE FROM trials_fts WHERE rowid = ?", (rowid,))
