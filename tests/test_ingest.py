"""Ingest into the store: every real record, idempotency, versions, interruption, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import API_SAMPLE, dump, need_shared
from trialscout.sources import read_path, read_paths
from trialscout.store import count_trials, get_trial, ingest, open_store


def test_every_shared_record_ingests_without_a_skip(full_store):
    conn, summary, _ = full_store
    assert summary.skipped == []
    assert summary.inserted == 251 + 1 + 7 + 6785
    assert count_trials(conn) == 7044


def test_reingesting_the_same_records_changes_nothing(tmp_path):
    need_shared()
    conn = open_store(tmp_path / "t.db")
    first = ingest(conn, read_path(API_SAMPLE))
    before = dump(conn)
    second = ingest(conn, read_path(API_SAMPLE))
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (251, 0, 0, 251)
    assert dump(conn) == before


def _study(nct: str, updated: str, title: str) -> dict:
    return {"protocolSection": {
        "identificationModule": {"nctId": nct, "briefTitle": title},
        "statusModule": {"overallStatus": "RECRUITING", "lastUpdatePostDateStruct": {"date": updated}},
        "conditionsModule": {"conditions": ["Dermatomyositis"]},
        "contactsLocationsModule": {"locations": [{"city": "Cleveland", "state": "Ohio",
                                                   "country": "United States"}]}}}


def test_newer_record_replaces_older_and_older_never_overwrites(tmp_path):
    conn = open_store(tmp_path / "t.db")
    path = tmp_path / "v.json"

    def load(*studies):
        path.write_text(json.dumps(list(studies)))
        return ingest(conn, read_path(path))

    load(_study("NCT09999999", "2024-01-10", "First version"))
    newer = load(_study("NCT09999999", "2025-03-01", "Second version"))
    assert newer.updated == 1
    assert get_trial(conn, "NCT09999999").title == "Second version"
    older = load(_study("NCT09999999", "2023-12-31", "Stale copy"))
    assert older.older == 1
    assert get_trial(conn, "NCT09999999").title == "Second version"
    # The replaced version leaves no stale index rows behind.
    assert conn.execute("SELECT count(*) FROM trials_fts WHERE trials_fts MATCH 'first'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM sites_box").fetchone()[0] == 1


def test_bad_records_lose_nothing_already_stored(tmp_path):
    need_shared()
    conn = open_store(tmp_path / "t.db")
    ingest(conn, read_path(API_SAMPLE))
    before = dump(conn)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"protocolSection": {}}, {"oops": 1}, {"protocolSection": {"identificationModule": ')
    summary = ingest(conn, read_paths([bad, tmp_path / "missing.xml"]))
    assert summary.read == 0 and len(summary.skipped) == 4
    assert dump(conn) == before


def _run_ingest(db, *paths, batch_size=25):
    return subprocess.Popen([sys.executable, "-m", "trialscout.cli", "ingest", *map(str, paths), "--db", str(db),
                             "--batch-size", str(batch_size)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_interrupted_ingest_rerun_equals_uninterrupted(tmp_path):
    need_shared()
    from trialscout.data import demo_corpus

    inputs = (API_SAMPLE, *demo_corpus())  # about 1,300 records: enough batches to cut one short
    reference = tmp_path / "reference.db"
    assert _run_ingest(reference, *inputs).wait(timeout=300) == 0

    killed = tmp_path / "killed.db"
    proc = _run_ingest(killed, *inputs)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            conn = open_store(killed, create=False, readonly=True)
            stored = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
            conn.close()
        except Exception:  # the store may not exist yet
            continue
        if stored >= 100:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be interrupted"
    partial = open_store(killed, create=False, readonly=True)
    partial_count = partial.execute("SELECT count(*) FROM trials").fetchone()[0]
    partial.close()
    assert 100 <= partial_count < 1000
    assert partial_count % 25 == 0, "a batch was half-committed"

    assert _run_ingest(killed, *inputs).wait(timeout=300) == 0
    assert dump(open_store(killed, readonly=True)) == dump(open_store(reference, readonly=True))


def test_store_rejects_a_foreign_sqlite_file(tmp_path):
    import sqlite3

    from trialscout.store import StoreError

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)")
    with pytest.raises(StoreError, match="not a trialscout one"):
        open_store(other)
    text = tmp_path / "notes.db"
    text.write_text("just text, not a database" * 100)
    with pytest.raises(StoreError, match="not a trialscout database"):
        open_store(text)
