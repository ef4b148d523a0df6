"""Shared fixtures: the real ClinicalTrials.gov samples in ../shared and stores built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscout.sources import read_paths
from trialscout.store import ingest, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CTGOV = SHARED / "data" / "ctgov"
API_SAMPLE = CTGOV / "ctg-studies-sample.json"
RESULTS_STUDY = CTGOV / "NCT02513394.json"
XML_ZIP = CTGOV / "AllPublicXML-sample.zip"
SEEDS = SHARED / "data" / "seed-trials" / "seed-trials.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def need_shared() -> None:
    if not API_SAMPLE.exists():
        pytest.skip("needs ../shared/data (the real ClinicalTrials.gov samples)")


@pytest.fixture(scope="session")
def full_store(tmp_path_factory):
    """Every shared record: 251 + 1 API v2 studies, 7 seed trials, 6,785 legacy XML records."""
    need_shared()
    path = tmp_path_factory.mktemp("full") / "full.db"
    conn = open_store(path)
    summary = ingest(conn, read_paths([API_SAMPLE, RESULTS_STUDY, SEEDS, XML_ZIP]))
    return conn, summary, path


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The bundled demo corpus, which needs nothing from ../shared."""
    from trialscout.data import demo_corpus

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = open_store(path)
    summary = ingest(conn, read_paths(demo_corpus()))
    return conn, summary, path


@pytest.fixture(scope="session")
def parsed_demo(demo_store):
    """The demo store with every trial's criteria parsed, as `trialscout demo` leaves it."""
    from trialscout.criteria import parse_pending

    conn, _, path = demo_store
    parse_pending(conn)
    return path


def dump(conn) -> list:
    """Everything a store holds that ingest decides, in a stable order (for equality checks)."""
    tables = {
        "trials": "SELECT id, nct_id, source, title, overall_status, study_type, phases, sex, min_age_years, "
                  "max_age_years, healthy_volunteers, sponsor, sponsor_class, enrollment, last_update, "
                  "content_hash FROM trials ORDER BY id",
        "facets": "SELECT f.facet, f.value, t.id FROM facets f JOIN trials t ON t.rowid = f.trial "
                  "ORDER BY 1, 2, 3",
        "aliases": "SELECT a.alias, t.id FROM aliases a JOIN trials t ON t.rowid = a.trial ORDER BY 1, 2",
        "sites": "SELECT t.id, s.idx, s.lat, s.lon FROM sites s JOIN trials t ON t.rowid = s.trial ORDER BY 1, 2",
        "sites_box": "SELECT count(*) FROM sites_box b JOIN sites s ON s.id = b.id",
        "fts": "SELECT t.id, f.title, f.conditions, f.mesh, f.summary FROM trials_fts f "
               "JOIN trials t ON t.rowid = f.rowid ORDER BY 1",
    }
    return [(name, [tuple(r) for r in conn.execute(sql)]) for name, sql in tables.items()]
