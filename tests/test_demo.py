"""The bundled demo corpus and `trialscout demo`: the README's main job, which needs no ../shared."""

from __future__ import annotations

from typer.testing import CliRunner

from trialscout.cli import app
from trialscout.geo import resolve_place
from trialscout.store import Filters, get_trial, search, stats


def test_demo_corpus_loads_every_record(demo_store):
    conn, summary, _ = demo_store
    assert summary.skipped == []
    assert summary.inserted == 252 + 7 + 816
    counts = stats(conn)
    assert counts["by_source"] == {"ctgov-xml": 816, "ctgov-json": 259}


def test_demo_finds_dermatomyositis_trials_near_cleveland(demo_store):
    conn, _, _ = demo_store
    near = Filters(near=resolve_place("Cleveland, OH"), within_km=805)
    hits = search(conn, "dermatomyositis", near, limit=20).hits
    ids = [h.id for h in hits]
    assert {"NCT07012057", "NCT00001261", "NCT00004357"} <= set(ids)
    assert all(h.nearest_site and h.nearest_site.distance_km <= 805 for h in hits)
    # The seed trials without an NCT id or without a title display sensibly.
    assert get_trial(conn, "SEED-LENALIDOMIDE-CDM").title.startswith("Lenalidomide")
    assert get_trial(conn, "NCT04966884").title == "Untitled trial (NCT04966884)"


def test_demo_command(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "demo.db")])
    assert result.exit_code == 0, result.output
    assert "1075 new" in result.stderr and "0 skipped" in result.stderr
    assert "NCT07012057" in result.stdout
