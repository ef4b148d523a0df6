"""End to end in a real headless Chromium (Debian's, driven by Playwright): what a newcomer does.

Search for dermatomyositis near Cleveland, open NCT07012057, read its key facts and criteria, answer
"Am I a good fit?" as a person on prednisone 25 mg/day and see the deciding criterion marked "not met".
Screenshots of every page go to artifacts/screenshots/ (kept by CI).

Needs the chromium package (.ci/run installs it). Without it the tests skip, unless
TRIALSCOUT_REQUIRE_BROWSER=1 (set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "artifacts" / "screenshots"
DM = "NCT07012057"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium must not phone home: this machine's network is closed and refused connections slow it down.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _browser_or_skip() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("TRIALSCOUT_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium is not installed (apt-get install chromium), and CI requires the browser tests")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(parsed_demo):
    _browser_or_skip()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "trialscout.cli", "serve", "--db", str(parsed_demo),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/api/v1/stats", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read()}")
            time.sleep(0.25)
        else:
            pytest.fail("server did not start within 30 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_browser_or_skip(), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.set_default_timeout(20_000)
        yield pg
        assert not errors, f"JavaScript errors on the pages: {errors}"
        browser.close()


def test_search_then_trial_page_then_fit_questionnaire(page):
    page.goto("/")
    assert "not give medical advice" in page.locator(".notice").inner_text()
    page.fill("#q", "dermatomyositis")
    page.click("details.filters > summary")
    page.fill("#near", "Cleveland, OH")
    page.select_option("#within", "500mi")
    page.click("form.search button[type=submit] >> nth=0")
    page.wait_for_url("**/search?*")
    assert "near=Cleveland" in page.url and "within=500mi" in page.url  # the state is in the URL
    card = page.locator(".card", has=page.locator(f"a[href^='/trials/{DM}']"))
    assert card.count() == 1
    assert "miles away" in card.inner_text()
    page.screenshot(path=str(SHOTS / "1-search.png"), full_page=True)

    card.locator("h2 a").click()
    page.wait_for_url(f"**/trials/{DM}*")
    badges = page.locator("#key-facts").inner_text()
    assert "No placebo group" in badges and "Open-label" in badges and "Tested in people before" in badges
    assert "dermatomyositis" in page.locator("#inclusion").inner_text().lower()
    assert "Prednisone dose greater than 20 mg/day" in page.locator("#exclusion").inner_text()
    assert "miles away" in page.locator("#where").inner_text()  # distances from the searched place
    assert "nothing you enter is stored or logged" in page.locator("#fit").inner_text().lower()
    page.screenshot(path=str(SHOTS / "2-trial.png"), full_page=True)

    form = page.locator("#fit-form")
    form.locator("input[name=age]").fill("50")
    form.locator("select[name=sex]").select_option("female")
    form.locator("select[name=drug_prednisone]").select_option("now")
    form.locator("input[name=dose_prednisone]").fill("25")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#fit-result")
    assert page.locator("#fit-result .verdict").get_attribute("data-verdict") == "ineligible"
    deciding = page.locator("#fit-result li.deciding", has_text="Prednisone dose greater than 20 mg/day")
    assert deciding.count() == 1
    assert deciding.get_attribute("data-state") == "not_met"
    assert "not met" in deciding.locator(".state").inner_text()
    page.screenshot(path=str(SHOTS / "3-fit-result.png"), full_page=True)


def test_trial_page_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/trials/{DM}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(SHOTS / "4-trial-phone.png"), full_page=False)
    page.set_viewport_size({"width": 1200, "height": 900})


def test_match_a_patient_note(page):
    page.goto("/match")
    page.fill("#note", "52-year-old woman with dermatomyositis on prednisone 25 mg daily. Platelets 90,000/uL.")
    page.click("#match-form button[type=submit]")
    page.wait_for_selector(".card.match")
    dm = page.locator(f".card.match[data-trial='{DM}']")
    assert dm.count() == 1
    assert dm.locator(".verdict").get_attribute("data-verdict") == "ineligible"
    page.screenshot(path=str(SHOTS / "5-match.png"), full_page=True)


def test_dermatomyositis_tools_total_improvement_score(page):
    page.goto("/tools/dermatomyositis")
    values = {"physician_global": (6, 2), "patient_global": (6, 3), "mmt8": (60, 75), "haq": (1.5, 0.5),
              "enzyme": (1000, 200), "extramuscular_global": (4, 1)}
    for name, (base, follow) in values.items():
        page.fill(f"input[name=baseline_{name}]", str(base))
        page.fill(f"input[name=followup_{name}]", str(follow))
    page.click("#tis-form button[type=submit]")
    page.wait_for_selector("#tis-result")
    assert "response" in page.locator("#tis-result h2").inner_text()
    page.screenshot(path=str(SHOTS / "6-tools.png"), full_page=True)
