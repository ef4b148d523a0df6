"""The synthetic registry (trialscout.synth) and the scale benchmark suite at a tiny size.

Uses only the bundled demo corpus, so it runs without ../shared.
"""

from __future__ import annotations

import gzip
import json
import traceback
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from trialscout.data import demo_corpus
from trialscout.sources import RecordError, read_paths
from trialscout.store import count_trials, ingest, open_store, search
from trialscout.synth import generate_studies, load_pool, synthetic_patients, write_corpus
from trialscout.synth.generate import corpus_files

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pool():
    return load_pool(demo_corpus())


def _ids(studies) -> list[str]:
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def test_same_seed_same_studies_and_prefix_property(pool):
    a = list(generate_studies(pool, 300, seed=5))
    assert a == list(generate_studies(pool, 300, seed=5))
    assert a[:100] == list(generate_studies(pool, 100, seed=5))  # the first k do not depend on n
    assert a != list(generate_studies(pool, 300, seed=6))


def test_ids_unique_and_nct_shaped(pool):
    ids = _ids(generate_studies(pool, 2000, seed=1))
    assert len(set(ids)) == 2000
    assert all(len(i) == 11 and i.startswith("NCT9") and i[3:].isdigit() for i in ids)


def test_text_and_status_come_from_real_records(pool):
    real_titles = {t["ident"].get("briefTitle") for t in pool.topics}
    studies = list(generate_studies(pool, 500, seed=2))
    assert all(s["protocolSection"]["identificationModule"].get("briefTitle") in real_titles for s in studies)
    statuses = [s["protocolSection"]["statusModule"]["overallStatus"] for s in studies]
    assert set(statuses) <= set(pool.status_weights)


def test_files_are_deterministic_and_ingest_with_the_real_ingester(pool, tmp_path):
    m1 = write_corpus(pool, 120, tmp_path / "a", seed=3, shard_size=50)
    write_corpus(pool, 120, tmp_path / "b", seed=3, shard_size=50)
    files = corpus_files(tmp_path / "a")
    assert [f.name for f in files] == ["studies-00000.jsonl.gz", "studies-00001.jsonl.gz", "studies-00002.jsonl.gz"]
    assert all(f.read_bytes() == (tmp_path / "b" / f.name).read_bytes() for f in files)
    assert m1["n"] == 120 and json.loads((tmp_path / "a" / "MANIFEST").read_text())["seed"] == 3
    with gzip.open(files[0]) as f:
        first = orjson.loads(f.readline())
    assert "protocolSection" in first  # API v2 study shape

    items = list(read_paths([tmp_path / "a"]))  # the directory, as `trialscout ingest DIR` reads it
    assert not [i for i in items if isinstance(i, RecordError)]
    conn = open_store(tmp_path / "s.db")
    summary = ingest(conn, items)
    assert summary.inserted == 120 and count_trials(conn) == 120
    word = next(w for s in items for w in (s.conditions[0].split() if s.conditions else []) if len(w) > 4)
    assert search(conn, word).total > 0


def test_synthetic_patients_are_varied_and_deterministic():
    a, b = synthetic_patients(20, seed=4), synthetic_patients(20, seed=4)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert len({(p.age_years, p.sex) for p in a}) > 10
    assert all(p.of_kind("condition") and not p.problems for p in a)


def test_bench_run_smoke_at_tiny_n(tmp_path):
    """`trialscout bench run` end to end on 40 studies: every benchmark writes its figures."""
    from trialscout.cli import app

    out = tmp_path / "scale.json"
    sources = [str(p) for p in demo_corpus()]
    result = CliRunner().invoke(app, ["bench", "run", "--n", "40", "--work", str(tmp_path), "--out", str(out),
                                      "--only", "ingest,search,match,batch,size", "--sources", *sources,
                                      "--match-patients", "2", "--batch-patients", "4", "--batch-max-seconds", "2",
                                      "--quiet"])
    assert result.exit_code == 0, result.output + "".join(traceback.format_exception(*result.exc_info or ()))
    run = json.loads(out.read_text())["runs"]["40"]
    assert run["ingest"]["records"] == 40 and run["ingest"]["reference_parse_only_orjson"]["records"] == 40
    assert run["search"]["searches"] == 200 and "p95" in run["search"]["all_ms"]
    assert run["match"]["patients_measured"] == 2
    assert run["batch"]["patients_screened"] > 0
    assert run["size"]["trials"] == 40
    assert run["machine"]["cores"] >= 1


def test_bench_ratios_survive_a_reference_that_rounds_to_zero():
    """A tiny run's parse-only floor or BM25 latency can round to 0; the ratio is then absent, not a crash."""
    import sys
    sys.path.insert(0, str(REPO / "bench" / "scale"))
    from common import ratio

    assert ratio(3.0, 1.5) == 2.0
    assert ratio(3.0, 0.0) is None
