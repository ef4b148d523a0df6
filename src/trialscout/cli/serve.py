"""`trialscout serve`: the web app and JSON API on the store, read-only."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from trialscout.store import open_store

from .app import DbOption, UserError, app, db_path, user_errors


def web_app():
    """Factory for uvicorn's worker processes, which can only be given an import string."""
    from trialscout.web import create_app

    return create_app(db_path(None), max_body=int(os.environ.get("TRIALSCOUT_MAX_BODY", 0)) or None)


@app.command("serve")
@user_errors
def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 to let other machines in")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes serving requests (one per core)")] = 1,
    max_body_mb: Annotated[float, typer.Option("--max-body-mb", min=0.01, help="Largest request body")] = 5.1,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log each request's path (off by default: "
                                                                "search words can be personal)")] = False,
) -> None:
    """Serve the web app and the JSON API (/api/v1, OpenAPI at /openapi.json) on the store."""
    import uvicorn

    path = db_path(db)
    open_store(path, create=False, readonly=True).close()  # a missing store is a one-line error, here
    os.environ["TRIALSCOUT_DB"] = str(path.resolve())
    os.environ["TRIALSCOUT_MAX_BODY"] = str(int(max_body_mb * 1024 * 1024))
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    typer.echo(f"trialscout is serving {path} at http://{shown}:{port}/  (Ctrl+C stops it)")
    try:
        uvicorn.run("trialscout.cli.serve:web_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=access_log)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
