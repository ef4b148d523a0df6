"""The HTML pages through the ASGI app (no browser): states in URLs, forms, uploads and bad input."""

from __future__ import annotations

import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from trialscout.web import create_app

DM = "NCT07012057"
FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def client(parsed_demo):
    with TestClient(create_app(parsed_demo)) as c:
        yield c


def test_every_page_says_it_gives_no_medical_advice_and_stores_nothing(client):
    for url in ("/", f"/trials/{DM}", "/match", "/tools/dermatomyositis", "/trials/NCT00000000"):
        page = client.get(url).text
        assert "does not give medical advice" in page and "not stored or logged" in page


def test_search_page_keeps_its_state_in_the_url(client):
    page = client.get("/search", params={"q": "dermatomyositis", "status": "recruiting", "age": "40",
                                         "near": "Cleveland, OH", "per_page": 1})
    assert page.status_code == 200
    html = page.text
    assert 'value="dermatomyositis"' in html and 'value="recruiting" checked' in html and 'value="40"' in html
    # Paging links carry every filter.
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1)
    assert "status=recruiting" in nxt and "age=40" in nxt and "page=2" in nxt
    assert re.search(r"Recruiting <span class=\"count\">\(\d+\)</span>", html)  # facet counts


def test_search_page_reports_bad_filters(client):
    page = client.get("/search", params={"q": "x", "age": "-4"})
    assert page.status_code == 400 and "age must be between 0 and 130" in page.text


def test_unknown_trial_page_is_404(client):
    page = client.get("/trials/NCT00000000")
    assert page.status_code == 404 and "no trial" in page.text


def test_trial_page_sections_in_order(client):
    html = client.get(f"/trials/{DM}").text
    order = ["h-key", "h-purpose", "h-who", "h-fit", "h-happens", "h-measures", "h-where", "h-runs",
             "h-results", "h-see", "h-glossary"]
    positions = [html.index(f'id="{h}"') for h in order]
    assert positions == sorted(positions)
    assert "20</strong> participants needed" in html
    assert "Results pending" in html


def test_fit_form_answers_and_bad_numbers(client):
    ok = client.post(f"/trials/{DM}/fit", data={"age": "50", "drug_prednisone": "now", "dose_prednisone": "25"})
    assert ok.status_code == 200 and 'data-verdict="ineligible"' in ok.text
    assert 'value="25"' in ok.text  # the answers stay in the form, to change them
    bad = client.post(f"/trials/{DM}/fit", data={"age": "fifty"})
    assert bad.status_code == 400 and "How old are you?" in bad.text


def test_match_page_reads_an_uploaded_fhir_bundle(client):
    bundle = (FIXTURES / "patients" / "dm-bundle.json").read_bytes()
    page = client.post("/match", files={"file": ("dm-bundle.json", bundle, "application/json")},
                       data={"near": "Cleveland, OH", "within": "500mi"})
    assert page.status_code == 200
    assert 'data-trial="NCT07012057"' in page.text


def test_match_page_bad_input(client):
    assert client.post("/match", data={"note": "  "}).status_code == 400
    broken = client.post("/match", files={"file": ("b.json", b'{"resourceType": "Bundle", "entry": 5}',
                                                    "application/json")})
    assert broken.status_code == 422 and "b.json" in broken.text
    place = client.post("/match", data={"note": "woman with dermatomyositis", "near": "Qqzzyx Town"})
    assert place.status_code == 400 and "unknown place" in place.text


def test_tools_page_computes_and_reports_missing_measures(client):
    form = {"population": "adult", "mmt8_scale": "80"}
    for name, (b, f) in {"physician_global": (6, 2), "patient_global": (6, 3), "mmt8": (60, 75),
                         "haq": (1.5, 0.5), "enzyme": (1000, 200), "extramuscular_global": (4, 1)}.items():
        form[f"baseline_{name}"], form[f"followup_{name}"] = str(b), str(f)
    page = client.post("/tools/dermatomyositis", data=form)
    assert page.status_code == 200 and 'id="tis-result"' in page.text
    del form["followup_haq"]
    page = client.post("/tools/dermatomyositis", data=form)
    assert page.status_code == 400 and "followup.haq" in page.text
