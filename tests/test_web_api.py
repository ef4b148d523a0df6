"""The JSON API on the demo corpus: every route, with good input, bad input, oversize bodies, unknown ids."""

from __future__ import annotations

import json
import warnings

import pytest

from trialscout.criteria import parse_pending
from trialscout.data import demo_corpus
from trialscout.sources import read_paths
from trialscout.store import ingest, open_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from trialscout.web import create_app

DM = "NCT07012057"


@pytest.fixture(scope="session")
def client(parsed_demo):
    with TestClient(create_app(parsed_demo, max_body=200_000)) as c:
        yield c


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return body


def test_search_finds_dermatomyositis_near_cleveland_with_facets_and_paging(client):
    r = client.get("/api/v1/search", params={"q": "dermatomyositis", "near": "Cleveland, OH", "within": "500mi"})
    assert r.status_code == 200
    data = r.json()
    ids = [h["id"] for h in data["results"]]
    assert DM in ids
    assert all(h["nearest_site"]["distance_mi"] <= 500 for h in data["results"])
    assert data["facets"]["status"]
    page1 = client.get("/api/v1/search", params={"q": "dermatomyositis", "per_page": 2}).json()
    page2 = client.get("/api/v1/search", params={"q": "dermatomyositis", "per_page": 2, "page": 2}).json()
    assert page1["total"] == page2["total"] > 2
    assert not {h["id"] for h in page1["results"]} & {h["id"] for h in page2["results"]}


def test_search_filters_combine(client):
    everything = client.get("/api/v1/search", params={"q": "dermatomyositis"}).json()["total"]
    recruiting = client.get("/api/v1/search", params={"q": "dermatomyositis", "status": "recruiting"}).json()
    assert 0 < recruiting["total"] < everything
    assert {h["overall_status"] for h in recruiting["results"]} == {"RECRUITING"}
    kids = client.get("/api/v1/search", params={"q": "dermatomyositis", "age": "8"}).json()
    assert kids["total"] < everything


@pytest.mark.parametrize("params, field", [
    ({"phase": "phase9"}, "phase"), ({"age": "abc"}, "age"), ({"age": "200"}, "age"),
    ({"within": "50mi"}, "within"), ({"near": "Nowhereville Xq"}, "near"), ({"near": "Cleveland", "within": "far"}, "within"),
    ({"q": "x" * 600}, "q"), ({"page": "0"}, "page"), ({"per_page": "1000"}, "per_page"), ({"sex": "robot"}, "sex"),
])
def test_search_bad_parameters_name_the_field(client, params, field):
    assert error_of(client.get("/api/v1/search", params=params), 400)["field"] == field


def test_search_treats_query_syntax_as_words(client):
    r = client.get("/api/v1/search", params={"q": 'derm" OR NOT ( *'})
    assert r.status_code == 200


def test_trial_detail_has_record_and_plain_language(client):
    data = client.get(f"/api/v1/trials/{DM}", params={"near": "Cleveland, OH"}).json()
    assert data["trial"]["id"] == DM
    plain = data["plain"]
    keys = {b["key"] for b in plain["key_facts"]}
    assert {"no_placebo", "open_label", "tested_before", "already_taking"} <= keys
    assert plain["sites"][0]["distance_mi"] is not None
    assert plain["sponsor"]["trials"] >= 1


def test_unknown_trial_is_404_on_every_trial_route(client):
    for path in ("", "/criteria", "/similar", "/questionnaire"):
        assert error_of(client.get(f"/api/v1/trials/NCT00000000{path}"), 404)["field"] == "id"
    assert error_of(client.post("/api/v1/trials/NCT00000000/fit", json={"answers": {}}), 404)


def test_criteria_and_similar(client):
    crit = client.get(f"/api/v1/trials/{DM}/criteria").json()["criteria"]
    assert {c["section"] for c in crit} >= {"inclusion", "exclusion"}
    assert any(f["concept"] == "prednisone" for c in crit for f in c["facts"])
    similar = client.get(f"/api/v1/trials/{DM}/similar", params={"limit": 3}).json()["similar"]
    assert 0 < len(similar) <= 3 and DM not in {s["id"] for s in similar}
    assert error_of(client.get(f"/api/v1/trials/{DM}/similar", params={"limit": 0}), 400)["field"] == "limit"


def test_questionnaire_and_fit_prednisone_25_is_ineligible(client):
    questions = client.get(f"/api/v1/trials/{DM}/questionnaire").json()["questions"]
    names = {q["name"] for q in questions}
    assert {"age", "sex"} <= names
    assert {"drug_prednisone", "dose_prednisone", "lab_platelet_count"} <= names
    dose = next(q for q in questions if q["name"] == "dose_prednisone")
    assert dose["kind"] == "number" and dose["unit"] == "mg/day"
    answers = {"age": 50, "sex": "female", "drug_prednisone": "now", "dose_prednisone": 25}
    result = client.post(f"/api/v1/trials/{DM}/fit", json={"answers": answers}).json()
    assert result["verdict"] == "ineligible"
    deciding = [c for c in result["criteria"] if c["id"] in result["deciding"]]
    assert any("Prednisone dose greater than 20 mg/day" in c["text"] for c in deciding)
    unsure = client.post(f"/api/v1/trials/{DM}/fit", json={"answers": {}}).json()
    assert unsure["verdict"] == "possibly_eligible"


def test_fit_bad_answers(client):
    error_of(client.post(f"/api/v1/trials/{DM}/fit", json={"answers": {"age": "old"}}), 400)
    error_of(client.post(f"/api/v1/trials/{DM}/fit", json={"answer": {}}), 400)
    error_of(client.post(f"/api/v1/trials/{DM}/fit", content=b"{not json", headers={"content-type": "application/json"}), 400)


def test_match_from_note_profile_and_fhir(client):
    note = "52-year-old woman with dermatomyositis on prednisone 25 mg daily. Platelets 90,000/uL."
    r = client.post("/api/v1/match", json={"note": note, "trials": [DM]})
    assert r.status_code == 200
    [m] = r.json()["results"]
    assert m["trial"] == DM and m["verdict"] == "ineligible"
    profile = {"age": 50, "sex": "female", "conditions": ["dermatomyositis"]}
    ranked = client.post("/api/v1/match", json={"profile": profile, "top": 5}).json()["results"]
    assert 0 < len(ranked) <= 5
    assert all(m["verdict"] in ("eligible", "possibly_eligible", "ineligible") for m in ranked)
    bundle = json.loads((_fixtures() / "patients" / "dm-bundle.json").read_text())
    r = client.post("/api/v1/match", json={"fhir": bundle, "trials": [DM]})
    assert r.status_code == 200 and r.json()["results"][0]["trial"] == DM


def _fixtures():
    from pathlib import Path

    return Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("body, status, field", [
    ({"fhir": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient",
                                                                                       "gender": 7}}]}}, 422, "fhir"),
    ({"fhir": {"resourceType": "Banana"}}, 422, "fhir"),
    ({"note": "   "}, 400, "note"),
    ({}, 400, "patient"),
    ({"note": "a", "profile": {"age": 3}}, 400, "patient"),
    ({"profile": {"age": "very old"}}, 400, "profile"),
    ({"note": "woman with dermatomyositis", "near": "Qqzzyx Town"}, 400, "near"),
    ({"note": "woman", "top": 0}, 400, "top"),
    ({"note": "woman", "as_of": "yesterday"}, 400, "as_of"),
])
def test_match_bad_input(client, body, status, field):
    assert error_of(client.post("/api/v1/match", json=body), status)["field"] == field


def test_oversize_body_is_413(client):
    error_of(client.post("/api/v1/match", json={"note": "x" * 300_000}), 413)
    # Without a Content-Length header the body is counted as it streams.
    chunks = (b"x" * 50_000 for _ in range(6))
    error_of(client.post("/api/v1/match", content=chunks, headers={"content-type": "application/json"}), 413)


def test_stats_and_openapi(client):
    stats = client.get("/api/v1/stats").json()
    assert stats["trials"] == 1075
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/api/v1/search", "/api/v1/trials/{trial_id}", "/api/v1/trials/{trial_id}/criteria",
                  "/api/v1/match", "/api/v1/trials/{trial_id}/similar", "/api/v1/stats"):
        assert route in paths


def test_measures(client):
    tis = {"population": "adult", "mmt8_scale": 80,
           "baseline": {"physician_global": 6, "patient_global": 6, "mmt8": 60, "haq": 1.5, "enzyme": 1000,
                        "extramuscular_global": 4},
           "followup": {"physician_global": 2, "patient_global": 3, "mmt8": 75, "haq": 0.5, "enzyme": 200,
                        "extramuscular_global": 1}}
    data = client.post("/api/v1/measures/tis", json=tis).json()
    assert data["category"] in ("minimal", "moderate", "major") and len(data["measures"]) == 6
    bad = error_of(client.post("/api/v1/measures/tis", json={"population": "adult"}), 400)
    assert "mmt8_scale" in bad["message"]
    error_of(client.post("/api/v1/measures/bmi", json={}), 404)


def test_script_in_a_trial_summary_is_rendered_as_text(tmp_path):
    studies = json.loads(next(p for p in demo_corpus() if p.name == "seed-trials.json").read_text())
    study = next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == DM)
    study["protocolSection"]["descriptionModule"]["briefSummary"] = "<script>alert(1)</script> & <b>bold</b>"
    study["protocolSection"]["identificationModule"]["briefTitle"] = "<img src=x onerror=alert(2)>"
    (tmp_path / "evil.json").write_text(json.dumps(study))
    conn = open_store(tmp_path / "evil.db")
    ingest(conn, read_paths([tmp_path / "evil.json"]))
    parse_pending(conn)
    with TestClient(create_app(tmp_path / "evil.db")) as c:
        for url in (f"/trials/{DM}", "/search?q=alert"):
            page = c.get(url).text
            assert "<script>alert(1)" not in page and "<img src=x" not in page
        page = c.get(f"/trials/{DM}").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
        assert "&lt;img src=x onerror=alert(2)&gt;" in page
