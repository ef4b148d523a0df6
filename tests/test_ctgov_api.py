"""The API client against a local fake of ClinicalTrials.gov serving real records."""

from __future__ import annotations

import datetime
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from trialscout import __version__
from trialscout.sources.ctgov_api import (
    DEFAULT_BASE_URL,
    CtgovClient,
    StudyQuery,
    SyncError,
    base_url_from_env,
)

SAMPLE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "ctgov"
    / "ctg-studies-sample.json"
)
API_PATH = "/api/v2"


def nct_id(study: dict[str, Any]) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeCtgov:
    """Pages through the sample like API v2 does; canned replies go first."""

    studies: list[dict[str, Any]]
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    canned: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    def reply(self, status: int, body: bytes | str = b"", **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.canned.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, data))

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.canned:
            return self.canned.pop(0)
        if path != f"{API_PATH}/studies":
            return 404, {}, b"not found"
        token = params.get("pageToken")
        offset = 0
        if token is not None:
            if not token.startswith("NF0g") or not token[4:].isdigit():
                return 400, {}, b"invalid pageToken"
            offset = int(token[4:])
        size = int(params.get("pageSize", "10"))
        body: dict[str, Any] = {"studies": self.studies[offset : offset + size]}
        if offset + size < len(self.studies):
            body["nextPageToken"] = f"NF0g{offset + size}"
        if params.get("countTotal") == "true":
            body["totalCount"] = len(self.studies)
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
        fake: FakeCtgov = self.server.fake
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        fake.requests.append(Seen(url.path, params, dict(self.headers)))
        status, headers, body = fake.answer(url.path, params)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sample_studies() -> list[dict[str, Any]]:
    if not SAMPLE.exists():
        pytest.skip(f"recorded ClinicalTrials.gov sample not found at {SAMPLE}")
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def fake(sample_studies: list[dict[str, Any]]) -> Iterator[FakeCtgov]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeCtgov(studies=sample_studies)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{API_PATH}"
    server.fake = fake  # type: ignore[attr-defined]
    # a short poll interval keeps shutdown() from costing half a second per test
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., CtgovClient]]:
    clients: list[CtgovClient] = []

    def make(base_url: str, **kwargs: Any) -> CtgovClient:
        kwargs.setdefault("timeout", 5.0)
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("max_backoff", 1.0)
        client = CtgovClient(base_url, sleep=sleeps.append, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


QUERY = StudyQuery(
    cond="lung cancer",
    statuses=("RECRUITING", "NOT_YET_RECRUITING"),
    updated_since=datetime.date(2024, 1, 15),
    page_size=100,
)


# --- paging ---------------------------------------------------------------


def test_all_pages_in_order_without_duplicates(fake, make_client, sample_studies):
    with make_client(fake.url) as client:
        got = list(client.iter_studies(QUERY))

    assert len(sample_studies) == 251
    assert [nct_id(s) for s in got] == [nct_id(s) for s in sample_studies]
    assert len({nct_id(s) for s in got}) == 251
    assert got[0] == sample_studies[0]  # raw dicts, untouched

    assert len(fake.requests) == 3
    tokens = [r.params.get("pageToken") for r in fake.requests]
    assert tokens == [None, "NF0g100", "NF0g200"]
    for seen in fake.requests:
        assert seen.path == "/api/v2/studies"
        assert seen.params["query.cond"] == "lung cancer"
        assert seen.params["filter.overallStatus"] == "RECRUITING,NOT_YET_RECRUITING"
        assert seen.params["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2024-01-15,MAX]"
        assert seen.params["pageSize"] == "100"
        assert seen.params["format"] == "json"
        assert seen.headers["User-Agent"] == f"trialscout/{__version__}"
    assert fake.requests[0].params["countTotal"] == "true"
    assert all("countTotal" not in r.params for r in fake.requests[1:])


def test_pages_carry_total_and_tokens(fake, make_client):
    client = make_client(fake.url)
    pages = list(client.iter_pages(QUERY))
    assert [len(p.studies) for p in pages] == [100, 100, 51]
    assert [p.next_page_token for p in pages] == ["NF0g100", "NF0g200", None]
    assert [p.total_count for p in pages] == [251, None, None]


def test_max_records_stops_before_further_pages(fake, make_client, sample_studies):
    client = make_client(fake.url)
    got = list(client.iter_studies(QUERY, max_records=150))
    assert [nct_id(s) for s in got] == [nct_id(s) for s in sample_studies[:150]]
    assert len(fake.requests) == 2  # the third page is never asked for


def test_small_max_records_asks_for_a_small_page(fake, make_client):
    client = make_client(fake.url)
    assert len(list(client.iter_studies(QUERY, max_records=5))) == 5
    assert len(fake.requests) == 1
    assert fake.requests[0].params["pageSize"] == "5"
    assert list(client.iter_studies(QUERY, max_records=0)) == []
    assert len(fake.requests) == 1


def test_repeated_page_token_is_an_error_not_a_loop(fake, make_client):
    page = json.dumps({"studies": [fake.studies[0]], "nextPageToken": "again"})
    for _ in range(3):
        fake.reply(200, page, Content_Type="application/json")
    with pytest.raises(SyncError, match="same nextPageToken"):
        list(make_client(fake.url).iter_studies(QUERY))
    assert len(fake.requests) == 2


# --- retries and errors ---------------------------------------------------


def test_429_is_retried_honouring_retry_after(fake, make_client, sleeps):
    fake.reply(429, "slow down", Retry_After="0")
    fake.reply(429, "slow down", Retry_After="0")
    got = list(make_client(fake.url).iter_studies(QUERY))
    assert len(got) == 251
    assert sleeps == [0.0, 0.0]
    assert len(fake.requests) == 2 + 3


def test_retry_after_is_capped(fake, make_client, sleeps):
    fake.reply(503, "", Retry_After="3600")
    client = make_client(fake.url, max_backoff=2.0)
    assert len(list(client.iter_studies(QUERY, max_records=1))) == 1
    assert sleeps == [2.0]


def test_500_every_time_fails_after_max_attempts(fake, make_client, sleeps):
    for _ in range(3):
        fake.reply(500, "boom")
    client = make_client(fake.url, max_attempts=3)
    with pytest.raises(SyncError) as err:
        list(client.iter_studies(QUERY))
    message = str(err.value)
    assert message == (
        "ClinicalTrials.gov answered 500 Internal Server Error for /studies after 3 attempts"
    )
    assert len(fake.requests) == 3
    assert len(sleeps) == 2
    assert 0.01 <= sleeps[0] <= 0.011  # backoff * 2**0 plus at most 10% jitter
    assert 0.02 <= sleeps[1] <= 0.022  # backoff * 2**1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("`query.recrs` is unknown parameter", "`query.recrs` is unknown parameter"),
        (json.dumps({"message": "pageSize must be\nat most 1000"}), "pageSize must be at most 1000"),
    ],
)
def test_400_fails_at_once_with_the_servers_reason(fake, make_client, sleeps, body, expected):
    fake.reply(400, body)
    with pytest.raises(SyncError) as err:
        list(make_client(fake.url).iter_studies(QUERY))
    assert str(err.value) == f"ClinicalTrials.gov answered 400: {expected}"
    assert len(fake.requests) == 1
    assert sleeps == []


def test_404_without_a_body_names_the_status(fake, make_client):
    fake.reply(404, "<html><body>Not here</body></html>")
    with pytest.raises(SyncError, match=r"^ClinicalTrials.gov answered 404 Not Found for /studies$"):
        list(make_client(fake.url).iter_studies(QUERY))


def test_offline_says_it_cannot_reach_the_server(make_client, sleeps):
    base = f"http://127.0.0.1:{closed_port()}/api/v2"
    client = make_client(base, max_attempts=2)
    with pytest.raises(SyncError) as err:
        list(client.iter_studies(QUERY))
    message = str(err.value)
    assert message.startswith(f"cannot reach ClinicalTrials.gov at {base}: ")
    assert "connection refused" in message
    assert "offline" in message
    assert "\n" not in message
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b'{"totalCount": 3}', "no 'studies' list"),
        (b"[]", "no 'studies' list"),
    ],
)
def test_unexpected_200_body(fake, make_client, body, problem):
    fake.reply(200, body, Content_Type="application/json")
    with pytest.raises(SyncError) as err:
        list(make_client(fake.url).iter_studies(QUERY))
    assert str(err.value) == f"unexpected response from {fake.url}/studies: {problem}"
    assert len(fake.requests) == 1


def test_timeouts_are_retried(sleeps):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"studies": [{"protocolSection": {}}]})

    with CtgovClient(
        "http://ctgov.test/api/v2",
        transport=httpx.MockTransport(handler),
        backoff=0.01,
        sleep=sleeps.append,
    ) as client:
        assert list(client.iter_studies(StudyQuery())) == [{"protocolSection": {}}]
    assert len(calls) == 2
    assert len(sleeps) == 1


def test_dns_failure_reads_as_offline(sleeps):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    with CtgovClient(
        "https://clinicaltrials.gov/api/v2",
        transport=httpx.MockTransport(handler),
        max_attempts=2,
        sleep=sleeps.append,
    ) as client:
        with pytest.raises(SyncError) as err:
            list(client.iter_studies(StudyQuery()))
    assert str(err.value) == (
        "cannot reach ClinicalTrials.gov at https://clinicaltrials.gov/api/v2: "
        "host name lookup failed (are you offline?)"
    )


# --- the query itself -----------------------------------------------------


def test_params_first_and_later_pages():
    query = StudyQuery(cond=" asthma ", intr="", locn="Cleveland, OH", statuses=("RECRUITING",))
    assert query.params() == {
        "query.cond": "asthma",
        "query.locn": "Cleveland, OH",
        "filter.overallStatus": "RECRUITING",
        "pageSize": "1000",
        "format": "json",
        "countTotal": "true",
    }
    later = query.params("abc")
    assert later["pageToken"] == "abc"
    assert "countTotal" not in later


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"statuses": ("RECRUITING", "Recruiting")}, "'Recruiting'"),
        ({"statuses": ("OPEN",)}, "'OPEN'"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"updated_since": "2024-01-01"}, "updated_since"),
    ],
)
def test_query_validation(kwargs, fragment):
    with pytest.raises(ValueError) as err:
        StudyQuery(**kwargs)
    assert fragment in str(err.value)


def test_single_status_string_is_not_split_into_letters():
    assert StudyQuery(statuses="RECRUITING").statuses == ("RECRUITING",)  # type: ignore[arg-type]


def test_base_url_from_env(monkeypatch):
    monkeypatch.delenv("TRIALSCOUT_CTGOV_URL", raising=False)
    assert base_url_from_env() == DEFAULT_BASE_URL
    monkeypatch.setenv("TRIALSCOUT_CTGOV_URL", "http://127.0.0.1:8080/api/v2")
    assert base_url_from_env() == "http://127.0.0.1:8080/api/v2"
