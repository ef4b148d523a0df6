"""The `trialscout` command: a thin layer that parses options, calls the stages and prints."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from trialscout.store import StoreError, default_path

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Find the clinical trials a person can join. trialscout gives no medical advice: "
                       "the study team decides eligibility.")

DbOption = Annotated[Optional[Path], typer.Option("--db", help="Store file [default: $TRIALSCOUT_DB, else "
                                                                  "~/.local/share/trialscout/trialscout.db]",
                                                  show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (field names documented in docs/json.md)")]


class UserError(Exception):
    """Bad input from the person at the keyboard: reported in one line, no traceback."""


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"trialscout: error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(func):
    """Report mistakes (bad values, missing store, unreadable files) as one line and exit non-zero."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (UserError, StoreError, ValueError) as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


def print_json(data) -> None:
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def db_path(db: Path | None) -> Path:
    return db or default_path()


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `trialscout search ... | head`
        sys.stderr.close()
        sys.exit(0)
