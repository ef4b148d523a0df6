"""The `trialscout` command as a person uses it: output, JSON fields, exit codes, one-line errors."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from conftest import API_SAMPLE, SEEDS, need_shared
from test_ctgov_api import fake, sample_studies  # noqa: F401  (fixtures)
from trialscout.cli import app

runner = CliRunner()


def run(*args: str, env: dict | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    need_shared()
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    result = run("ingest", API_SAMPLE, SEEDS, "--db", path)
    assert result.exit_code == 0, result.output
    return path


def test_ingest_reports_counts_as_json(tmp_path):
    need_shared()
    path = tmp_path / "x.db"
    first = json.loads(run("ingest", SEEDS, "--db", path, "--json").stdout)
    assert first["inserted"] == 7 and first["skipped"] == 0
    again = json.loads(run("ingest", SEEDS, "--db", path, "--json").stdout)
    assert again["inserted"] == 0 and again["unchanged"] == 7


def test_ingest_partial_bad_input_loads_the_rest_and_lists_skips(tmp_path):
    need_shared()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run("ingest", bad, SEEDS, "--db", tmp_path / "x.db")
    assert result.exit_code == 0
    assert "7 new" in result.stderr and "1 skipped" in result.stderr
    assert "bad.json: invalid JSON" in result.stderr
    strict = run("ingest", bad, SEEDS, "--db", tmp_path / "x.db", "--strict")
    assert strict.exit_code == 1


def test_ingest_nothing_readable_exits_non_zero(tmp_path):
    result = run("ingest", tmp_path / "missing.json", "--db", tmp_path / "x.db")
    assert result.exit_code == 1
    assert "no such file or directory" in result.stderr


def test_search_json_fields(db):
    result = run("search", "dermatomyositis", "--db", db, "--json", "--near", "Bethesda, MD", "--within", "50mi")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"query", "match", "total", "results"}
    first = data["results"][0]
    assert set(first) == {"id", "nct_id", "title", "overall_status", "phases", "study_type", "conditions",
                          "enrollment", "sponsor", "score", "snippet", "nearest_site"}
    assert first["id"] == "NCT07012057"
    site = first["nearest_site"]
    assert site["city"] == "Bethesda" and site["distance_mi"] < 50
    assert set(site) == {"facility", "city", "state", "country", "status", "distance_km", "distance_mi",
                         "geo_source"}


def test_search_table_output(db):
    result = run("search", "dermatomyositis", "--db", db, "--status", "recruiting")
    assert result.exit_code == 0
    assert "NCT05375435" in result.stdout and "NCT07012057" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--near", "Cleveland, OH", "--within", "-5mi"], "distance must be positive"),
    (["--within", "10mi"], "--within needs --near"),
    (["--near", "Narnia"], "unknown place 'Narnia'"),
    (["--status", "recruting"], "unknown status 'recruting'"),
    (["--phase", "7"], "unknown phase '7'"),
    (["--age", "-3"], "--age must be between 0 and 130"),
    (["--sex", "robot"], "unknown sex 'robot'"),
])
def test_bad_search_options_give_one_line_errors(db, args, message):
    result = run("search", "cancer", "--db", db, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_search_query_full_of_operators(db):
    result = run("search", '"AND (OR) NOT* ^:', "--db", db, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["match"] == "none"


def test_show_by_id_with_and_without_title(db):
    untitled = run("show", "NCT04966884", "--db", db)
    assert untitled.exit_code == 0 and "Untitled trial (NCT04966884)" in untitled.stdout
    seed = json.loads(run("show", "SEED-LENALIDOMIDE-CDM", "--db", db, "--json").stdout)
    assert seed["nct_id"] is None and seed["title"].startswith("Lenalidomide")
    lower = run("show", "nct07012057", "--db", db)
    assert lower.exit_code == 0 and "Deucravacitinib" in lower.stdout
    missing = run("show", "NCT00000000", "--db", db)
    assert missing.exit_code == 2 and "no trial 'NCT00000000'" in missing.stderr


def test_stats(db):
    data = json.loads(run("stats", "--db", db, "--json").stdout)
    assert data["trials"] == 258
    assert sum(data["by_study_type"].values()) == 258
    assert data["by_status"]["RECRUITING"] >= 1


def test_missing_store_and_env_default(tmp_path):
    need_shared()
    result = run("stats", "--db", tmp_path / "none.db")
    assert result.exit_code == 2 and "no trialscout database" in result.stderr
    env_db = tmp_path / "env.db"
    assert run("ingest", SEEDS, env={"TRIALSCOUT_DB": str(env_db)}).exit_code == 0
    assert json.loads(run("stats", "--json", env={"TRIALSCOUT_DB": str(env_db)}).stdout)["trials"] == 7


def test_sync_pages_into_the_store(fake, tmp_path):  # noqa: F811
    path = tmp_path / "sync.db"
    result = run("sync", "--cond", "lung cancer", "--status", "recruiting", "--page-size", "100",
                 "--base-url", fake.url, "--db", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 251
    tokens = [seen.params.get("pageToken") for seen in fake.requests]
    assert len(tokens) == 3 and tokens[0] is None and None not in tokens[1:]
    assert fake.requests[0].params["query.cond"] == "lung cancer"
    assert fake.requests[0].params["filter.overallStatus"] == "RECRUITING"
    assert json.loads(run("stats", "--db", path, "--json").stdout)["trials"] == 251


def test_sync_offline_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("sync", "--cond", "x", "--retries", "0", "--db", tmp_path / "s.db",
                 env={"TRIALSCOUT_CTGOV_URL": f"http://127.0.0.1:{port}/api/v2"})
    assert result.exit_code == 2
    assert "cannot reach ClinicalTrials.gov" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sync_needs_a_query(tmp_path):
    result = run("sync", "--db", tmp_path / "s.db")
    assert result.exit_code == 2 and "say what to sync" in result.stderr


def test_ingest_from_text_pages(tmp_path):
    need_shared()
    seeds = API_SAMPLE.parents[2] / "seeds"
    pages = sorted(seeds.glob("00[0-4]_*.txt"))
    args = [a for page in pages for a in ("--from-text", page)]
    result = run("ingest", *args, "--db", tmp_path / "p.db", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inserted"] == 4 and data["skipped"] == 1
    assert "003_" in data["skips"][0]["origin"] and "not a trial page" in data["skips"][0]["problem"]
    shown = json.loads(run("show", "NCT07012057", "--db", tmp_path / "p.db", "--json").stdout)
    assert shown["source"] == "page" and shown["phases"] == ["PHASE2"] and shown["enrollment"] == 20
    assert run("ingest", "--db", tmp_path / "p.db").exit_code == 2
