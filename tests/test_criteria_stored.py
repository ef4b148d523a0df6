"""Parsed criteria kept in the store, and the `criteria` / `eval coverage` commands."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from trialscout.cli import app
from trialscout.criteria import criteria_for, parse_pending, pending_count, preload_criteria
from trialscout.data import demo_corpus
from trialscout.sources import read_path
from trialscout.store import ingest, open_store

runner = CliRunner()
SEED_FILE = next(p for p in demo_corpus() if p.name == "seed-trials.json")


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "s.db"
    conn = open_store(path)
    ingest(conn, read_path(SEED_FILE))
    return conn, path


def test_parse_pending_once_then_nothing_left(store):
    conn, _ = store
    assert pending_count(conn) == 7
    assert parse_pending(conn, batch_size=3) == 7
    assert pending_count(conn) == 0 and parse_pending(conn) == 0
    crit = criteria_for(conn, "nct07012057")  # NCT ids in any case
    assert crit and any(f.concept == "JAK inhibitor" for c in crit for f in c.facts)
    assert criteria_for(conn, "NCT00000000") is None


def test_updated_trial_is_parsed_again(store):
    conn, _ = store
    parse_pending(conn)
    trial = next(t for t in read_path(SEED_FILE) if t.id == "NCT07012057")
    changed = trial.model_copy(update={
        "eligibility": trial.eligibility.model_copy(update={"criteria": "Exclusion Criteria:\n* Platelets < 50,000/mm3\n"}),
        "last_update": "2099-01-01"})
    ingest(conn, [changed])
    assert pending_count(conn) == 1
    (c,) = criteria_for(conn, "NCT07012057")
    assert c.facts[0].kind == "lab" and c.facts[0].thresholds[0].value == 50000


def test_preloaded_criteria_are_served_from_memory(store):
    conn, _ = store
    parse_pending(conn)
    open_ids = [i for (i,) in conn.execute(
        "SELECT t.id FROM trials t JOIN facets f ON f.trial = t.rowid "
        "WHERE f.facet = 'status' AND f.value IN ('RECRUITING', 'NOT_YET_RECRUITING')")]
    assert preload_criteria(conn) == len(open_ids) > 0
    before = criteria_for(conn, open_ids[0])
    # Were the stored row read again, this blob would fail to decode.
    conn.execute("UPDATE parsed_criteria SET data = x'00'")
    again = criteria_for(conn, open_ids[0])
    assert again == before and again is not before  # a copy of the list: callers may reorder theirs
    again.clear()
    assert criteria_for(conn, open_ids[0]) == before


def test_read_only_store_parses_without_saving(store):
    conn, path = store
    ro = open_store(path, readonly=True)
    crit = criteria_for(ro, "NCT07012057")
    assert crit and len(crit) > 20
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("INSERT INTO trials (id) VALUES ('x')")


def test_criteria_command_table_and_json(store):
    _, path = store
    result = run("criteria", "NCT07012057", "--db", path)
    assert result.exit_code == 0, result.output
    assert "prednisone" in result.output and "JAK inhibitor" in result.output
    assert "[dose change]" in result.output  # flags are text, not console markup
    data = json.loads(run("criteria", "NCT07012057", "--db", path, "--json").stdout)
    assert data["trial"] == "NCT07012057"
    first = data["criteria"][0]
    assert {"id", "section", "text", "start", "end", "parent", "role", "logic", "facts", "kind"} <= first.keys()
    pred = next(c for c in data["criteria"] if c["text"].startswith("Prednisone dose greater than"))
    assert pred["facts"][0]["thresholds"][0] | {"start": 0, "end": 0} == {
        "op": ">", "value": 20.0, "high": None, "values": None, "unit": "mg/day", "relative_to": None, "sex": None,
        "scale_max": None, "alternative": False, "norm_value": None, "norm_high": None, "norm_unit": None,
        "start": 0, "end": 0}


def test_criteria_command_errors(store, tmp_path):
    _, path = store
    result = run("criteria", "NCT99999999", "--db", path)
    assert result.exit_code == 2 and "no trial 'NCT99999999'" in result.output
    result = run("criteria", "NCT07012057", "--db", tmp_path / "none.db")
    assert result.exit_code == 2 and "no trialscout database" in result.output


def test_ingest_parses_criteria_unless_told_not_to(tmp_path):
    path = tmp_path / "i.db"
    assert run("ingest", SEED_FILE, "--db", path, "--no-parse").exit_code == 0
    assert pending_count(open_store(path)) == 7
    assert run("ingest", SEED_FILE, "--db", path).exit_code == 0
    assert pending_count(open_store(path)) == 0


def test_eval_coverage_command(tmp_path):
    data = json.loads(run("eval", "coverage", SEED_FILE, "--json").stdout)
    assert data["trials"] == 3 and data["criteria"] > 40  # 4 of the 7 seed records state no criteria
    assert 0.5 < data["structured_share"] <= 1
    assert sum(n for k, n in data["criteria_by_kind"].items() if k not in ("heading", "note")) == data["criteria"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run("eval", "coverage", bad)
    assert result.exit_code == 2 and "no trial with eligibility criteria" in result.output
    assert run("eval", "coverage", tmp_path / "missing.json").exit_code == 2
