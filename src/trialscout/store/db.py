"""Open (and create) the embedded SQLite store."""

from __future__ import annotations

import os
import sqlite3
from importlib import resources
from pathlib import Path

SCHEMA_VERSION = 1
ENV_VAR = "TRIALSCOUT_DB"


class StoreError(Exception):
    """A store that cannot be opened or used; the message is for the user."""


def default_path() -> Path:
    """TRIALSCOUT_DB, else $XDG_DATA_HOME/trialscout/trialscout.db (~/.local/share/...)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "trialscout" / "trialscout.db"


def open_store(path: Path | str | None = None, *, create: bool = True, readonly: bool = False) -> sqlite3.Connection:
    path = Path(path) if path else default_path()
    if not path.exists():
        if not create:
            raise StoreError(f"no trialscout database at {path}: run `trialscout ingest` first")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a trialscout database ({exc})") from None
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer trialscout (schema {version}); upgrade trialscout")
    if version == 0 and not readonly:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
        if tables:
            raise StoreError(f"{path} is an SQLite database but not a trialscout one; choose another --db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(resources.files("trialscout.store").joinpath("schema.sql").read_text())
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    elif version == 0:
        raise StoreError(f"{path} holds no trials yet: run `trialscout ingest` first")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.row_factory = sqlite3.Row
    return conn
