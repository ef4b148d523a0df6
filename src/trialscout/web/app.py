"""The ASGI app: FastAPI with the JSON API (``api``) and the HTML pages (``pages``) on one read-only store.

Nothing a person enters (questionnaire answers, notes, uploaded files) is stored or logged: requests
are handled in memory and the server runs without an access log unless asked.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from trialscout.store import open_store

from .cache import ResponseCache
from .errors import InputError
from .render import templates

DEFAULT_MAX_BODY = 5 * 1024 * 1024 + 64 * 1024  # a 5 MB note or bundle, plus form overhead


class Store:
    """One read-only SQLite connection per worker thread (connections are not shared across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        open_store(self.path, create=False, readonly=True).close()  # fail at start-up, not on a request

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_store(self.path, create=False, readonly=True)
        return conn


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, by header or while streaming."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _too_large(self.limit)(scope, receive, send)
        if length is not None:
            return await self.app(scope, receive, send)
        # No length given (chunked upload): read up to the limit first, then replay what was read.
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return await _too_large(self.limit)(scope, receive, send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(InputError(f"request body is larger than the limit of {limit:,} bytes",
                                   status=413).as_dict(), status_code=413)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, exc: InputError) -> JSONResponse | HTMLResponse:
    if _wants_json(request):
        return JSONResponse(exc.as_dict(), status_code=exc.status)
    return templates.TemplateResponse(request, "error.html", {"status": exc.status, "message": exc.message},
                                      status_code=exc.status)


def _validation_message(exc: RequestValidationError) -> InputError:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    where = ".".join(loc) or None
    msg = first.get("msg", "invalid input")
    return InputError(f"{where}: {msg}" if where else msg, field=where)


def _warm_up(store: Store) -> None:
    """Load the gazetteer, the NLP pipeline, the unit registry (matching converts lab units) and the
    open trials' parsed criteria before the first visitor needs them (seconds, once)."""
    from trialscout.criteria import preload_criteria
    from trialscout.criteria.nlp import mentions
    from trialscout.criteria.units import registry
    from trialscout.geo import resolve_place

    resolve_place("Cleveland, OH")
    mentions("no history of diabetes")
    registry()
    conn = open_store(store.path, create=False, readonly=True)
    try:
        preload_criteria(conn)
    finally:
        conn.close()
    # What was just loaded stays for the server's life: keep it out of the garbage collector's full
    # passes, which otherwise walk all of it during requests (bench/scale/match.py).
    gc.freeze()


@asynccontextmanager
async def _lifespan(app: FastAPI):
    threading.Thread(target=_warm_up, args=(app.state.store,), name="warm-up", daemon=True).start()
    yield


def create_app(db: Path | str, *, max_body: int | None = None) -> FastAPI:
    from . import api, pages

    app = FastAPI(title="trialscout", version="1", lifespan=_lifespan,
                  description="Find the clinical trials a person can join. trialscout gives no medical advice: "
                              "the study team decides eligibility.")
    app.state.store = Store(Path(db))  # raises StoreError for a missing or foreign file
    app.state.cache = ResponseCache(Path(db))
    max_body = max_body or DEFAULT_MAX_BODY

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        return _error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return _error_response(request, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error_response(request, InputError(str(exc.detail), status=exc.status_code))

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(packages=[("trialscout.web", "static")]), name="static")
    app.add_middleware(BodyLimit, limit=max_body)
    return app
