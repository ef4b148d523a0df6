"""Read trials and counts back out of the store."""

from __future__ import annotations

import sqlite3

from trialscout.model import Trial

from .writer import decode


def get_trial(conn: sqlite3.Connection, ident: str) -> Trial | None:
    """By trialscout id or NCT id (any case), else by an alias or secondary id."""
    ident = ident.strip()
    row = None
    # The id is the NCT id whenever there is one, so the unique index on id answers both; an OR with
    # the unindexed nct_id column made SQLite scan the table (20 ms at 10,000 trials, seconds at 500,000).
    for key in dict.fromkeys((ident, ident.upper())):
        row = row or conn.execute("SELECT record FROM trials WHERE id = ?", (key,)).fetchone()
    if row is None:
        row = conn.execute("SELECT t.record FROM aliases a JOIN trials t ON t.rowid = a.trial WHERE a.alias = ? "
                           "ORDER BY t.id LIMIT 1", (ident,)).fetchone()
    return decode(row[0]) if row else None


def sponsor_summary(conn: sqlite3.Connection, sponsor: str | None) -> dict | None:
    """How many trials a lead sponsor has in this store, and their total enrollment."""
    if not sponsor:
        return None
    n, total = conn.execute("SELECT count(*), coalesce(sum(enrollment), 0) FROM trials WHERE sponsor = ?",
                            (sponsor,)).fetchone()
    return {"name": sponsor, "trials": n, "total_enrollment": total}


def count_trials(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM trials").fetchone()[0]


def stats(conn: sqlite3.Connection) -> dict:
    """Counts by status, phase and study type, for `trialscout stats` and the web app."""

    def by(facet: str) -> dict[str, int]:
        rows = conn.execute("SELECT value, count(*) FROM facets WHERE facet = ? GROUP BY value "
                            "ORDER BY count(*) DESC, value", (facet,))
        return {value: n for value, n in rows}

    def missing(facet: str) -> int:
        return conn.execute("SELECT count(*) FROM trials WHERE rowid NOT IN "
                            "(SELECT trial FROM facets WHERE facet = ?)", (facet,)).fetchone()[0]

    out = {"trials": count_trials(conn),
           "sites_with_coordinates": conn.execute("SELECT count(*) FROM sites").fetchone()[0],
           "by_status": by("status"), "by_phase": by("phase"), "by_study_type": by("study_type"),
           "by_source": by("source")}
    for key, facet in (("by_status", "status"), ("by_phase", "phase"), ("by_study_type", "study_type")):
        if n := missing(facet):
            out[key]["(not stated)"] = n
    return out
