"""Client for the live ClinicalTrials.gov API v2 ``/studies`` endpoint.

The API is public and unauthenticated but rate limited and occasionally
flaky, so every request is retried on 429, 5xx and network errors; anything
that still fails becomes a :class:`SyncError` whose one-line message can be
shown to the user as is, instead of a traceback.
"""

from __future__ import annotations

import datetime
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

import httpx

from trialscout import __version__
from trialscout.model.vocab import allowed

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
ENV_BASE_URL = "TRIALSCOUT_CTGOV_URL"
MAX_PAGE_SIZE = 1000  # the API rejects larger pages

# Every overallStatus value API v2 knows; checked locally because the API's
# own 400 for a misspelt status does not say which value was wrong.
OVERALL_STATUSES = frozenset(allowed("status"))

_JITTER = 0.1  # up to 10% extra, so parallel clients do not retry in lockstep
_MAX_MESSAGE = 200


def base_url_from_env() -> str:
    """Let tests and mirrors redirect the CLI without a flag on every command."""
    return os.environ.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL


class SyncError(Exception):
    """A failure to fetch from ClinicalTrials.gov, worded for the end user."""


@dataclass(frozen=True)
class StudyQuery:
    """One search, validated up front so mistakes fail before any network use."""

    cond: str | None = None
    term: str | None = None
    intr: str | None = None
    locn: str | None = None
    statuses: tuple[str, ...] = ()
    updated_since: datetime.date | None = None
    page_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if isinstance(self.statuses, str):  # "RECRUITING" would iterate letters
            object.__setattr__(self, "statuses", (self.statuses,))
        else:
            object.__setattr__(self, "statuses", tuple(self.statuses))
        for status in self.statuses:
            if status not in OVERALL_STATUSES:
                raise ValueError(
                    f"unknown overall status {status!r}; "
                    f"expected one of {', '.join(sorted(OVERALL_STATUSES))}"
                )
        if (
            not isinstance(self.page_size, int)
            or isinstance(self.page_size, bool)
            or not 1 <= self.page_size <= MAX_PAGE_SIZE
        ):
            raise ValueError(
                f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, "
                f"got {self.page_size!r}"
            )
        if self.updated_since is not None and not isinstance(
            self.updated_since, datetime.date
        ):
            raise ValueError(
                f"updated_since must be a date, got {self.updated_since!r}"
            )

    def params(self, page_token: str | None = None) -> dict[str, str]:
        """Query string for one page; the total is only worth counting once."""
        params: dict[str, str] = {}
        for name, value in (
            ("query.cond", self.cond),
            ("query.term", self.term),
            ("query.intr", self.intr),
            ("query.locn", self.locn),
        ):
            if value and value.strip():
                params[name] = value.strip()
        if self.statuses:
            params["filter.overallStatus"] = ",".join(self.statuses)
        if self.updated_since is not None:
            params["filter.advanced"] = (
                f"AREA[LastUpdatePostDate]RANGE[{self.updated_since:%Y-%m-%d},MAX]"
            )
        params["pageSize"] = str(self.page_size)
        params["format"] = "json"
        if page_token is None:
            params["countTotal"] = "true"
        else:
            params["pageToken"] = page_token
        return params


@dataclass
class Page:
    """One response of ``/studies``; total_count is only set on the first."""

    studies: list[dict[str, Any]]
    next_page_token: str | None
    total_count: int | None


class CtgovClient:
    """Fetches studies over one keep-alive connection pool, retrying politely."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if timeout <= 0 or backoff < 0 or max_backoff < 0:
            raise ValueError("timeout must be positive and backoff times not negative")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={
                "User-Agent": f"trialscout/{__version__}",
                "Accept": "application/json",
            },
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> CtgovClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def studies_url(self) -> str:
        return f"{self.base_url}/studies"

    def iter_pages(self, query: StudyQuery) -> Iterator[Page]:
        """Follow nextPageToken lazily, so a caller that stops early saves requests."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self._parse_page(self._get(query.params(token)))
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token in seen:  # a server bug must not become an endless loop
                raise SyncError(
                    f"unexpected response from {self.studies_url}: "
                    "the same nextPageToken came back twice"
                )
            seen.add(token)

    def iter_studies(
        self, query: StudyQuery, max_records: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield raw API v2 study dicts, fetching no page beyond max_records."""
        if max_records is not None:
            if max_records < 0:
                raise ValueError(f"max_records must not be negative, got {max_records}")
            if max_records == 0:
                return
            if max_records < query.page_size:
                query = replace(query, page_size=max_records)
        count = 0
        for page in self.iter_pages(query):
            for study in page.studies:
                yield study
                count += 1
                if max_records is not None and count >= max_records:
                    return

    def _get(self, params: dict[str, str]) -> httpx.Response:
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self._http.get(self.studies_url, params=params)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise SyncError(
                    f"cannot use {self.base_url!r} as the ClinicalTrials.gov URL: "
                    f"{_one_line(str(exc))}"
                ) from exc
            except httpx.TransportError as exc:
                if last:
                    raise SyncError(self._unreachable(exc)) from exc
                self._sleep(self._backoff_delay(attempt))
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if last:
                    raise SyncError(
                        f"ClinicalTrials.gov answered {_status_text(response)} "
                        f"for /studies after {attempt} attempts"
                    )
                self._sleep(self._retry_delay(response, attempt))
                continue
            if not response.is_success:
                raise SyncError(_client_error(response))
            return response
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _backoff_delay(self, attempt: int) -> float:
        delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return delay + random.uniform(0, delay * _JITTER)

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code in (429, 503):
            try:
                wait = float(response.headers.get("Retry-After", ""))
            except ValueError:  # absent, or an HTTP date: fall back to backoff
                pass
            else:
                if math.isfinite(wait) and wait >= 0:
                    return min(wait, self.max_backoff)
        return self._backoff_delay(attempt)

    def _unreachable(self, exc: httpx.TransportError) -> str:
        where = f"cannot reach ClinicalTrials.gov at {self.base_url}"
        if isinstance(exc, httpx.TimeoutException):
            return (
                f"{where}: no answer within {self.timeout:g}s "
                f"after {self.max_attempts} attempts"
            )
        detail = _one_line(str(exc)) or type(exc).__name__
        lowered = detail.lower()
        if isinstance(exc, httpx.ConnectError):
            if "refused" in lowered:
                detail = "connection refused"
            elif any(
                hint in lowered
                for hint in ("name or service", "name resolution", "nodename", "getaddrinfo")
            ):
                detail = "host name lookup failed"
            return f"{where}: {detail} (are you offline?)"
        return f"{where}: {detail} after {self.max_attempts} attempts"

    def _parse_page(self, response: httpx.Response) -> Page:
        where = f"unexpected response from {self.studies_url}"
        try:
            body = response.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise SyncError(f"{where}: not JSON") from None
        studies = body.get("studies") if isinstance(body, dict) else None
        if not isinstance(studies, list):
            raise SyncError(f"{where}: no 'studies' list")
        if not all(isinstance(study, dict) for study in studies):
            raise SyncError(f"{where}: 'studies' holds something other than objects")
        token = body.get("nextPageToken")
        if token is not None and not isinstance(token, str):
            raise SyncError(f"{where}: nextPageToken is not a string")
        total = body.get("totalCount")
        if not isinstance(total, int) or isinstance(total, bool):
            total = None
        return Page(studies=studies, next_page_token=token or None, total_count=total)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _status_text(response: httpx.Response) -> str:
    reason = response.reason_phrase
    if not reason:
        try:
            reason = HTTPStatus(response.status_code).phrase
        except ValueError:
            reason = ""
    return f"{response.status_code} {reason}".rstrip()


def _client_error(response: httpx.Response) -> str:
    """Prefer the API's own explanation: it names the offending parameter."""
    message = ""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        if not text.startswith("<"):  # an HTML error page says nothing useful
            message = text
    else:
        if isinstance(body, dict):
            for key in ("message", "error", "detail"):
                if isinstance(body.get(key), str):
                    message = body[key]
                    break
        elif isinstance(body, str):
            message = body
    message = _one_line(message)
    if message:
        return f"ClinicalTrials.gov answered {response.status_code}: {message}"
    return f"ClinicalTrials.gov answered {_status_text(response)} for /studies"
