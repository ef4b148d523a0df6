"""`ingest`, `sync` and `demo`: the commands that write to the store."""

from __future__ import annotations

import datetime
import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich import filesize
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from trialscout.data import demo_corpus
from trialscout.model.vocab import normalize_choice
from trialscout.sources import (CtgovClient, StudyQuery, SyncError, base_url_from_env, read_page, read_paths,
                                read_studies)
from trialscout.store import IngestSummary, ingest, open_store

from .app import DbOption, JsonOption, UserError, app, db_path, print_json, user_errors

err = Console(stderr=True, soft_wrap=True)
MAX_LISTED_SKIPS = 20
PARALLEL_PARSE_FROM = 2000  # pending trials


@contextmanager
def _progress(enabled: bool) -> Iterator:
    """A bar per source on a terminal; nothing when piped or in CI."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bars: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[amount]}"),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        def update(label: str, done: int, total: int | None, unit: str) -> None:
            if unit == "bytes":
                amount = f"{filesize.decimal(done)} of {filesize.decimal(total)}" if total else filesize.decimal(done)
            else:
                amount = f"{done:,} of {total:,} {unit}" if total else f"{done:,} {unit}"
            if label not in bars:
                bars[label] = progress.add_task(Path(label).name, total=total, amount=amount)
            progress.update(bars[label], completed=done, total=total, amount=amount)
        yield update


def _parse_criteria(conn, enabled: bool, show: bool) -> None:
    """Parse the criteria of new or changed trials now, so search results and matching never wait."""
    if not enabled:
        return
    from trialscout.criteria import parse_pending, pending_count

    total = pending_count(conn)
    if not total:
        return
    with _progress(show) as progress:
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("criteria", done, total, "trials")

        # Big loads parse on every core (forked workers share the loaded NLP pipeline); small ones
        # stay in-process, where forking would cost more than it saves.
        workers = min(os.cpu_count() or 1, 4) if total >= PARALLEL_PARSE_FROM else 1
        parse_pending(conn, progress=step, workers=workers)
    if show:
        err.print(f"Parsed the eligibility criteria of {total:,} trials.", highlight=False)


ParseOption = Annotated[bool, typer.Option("--parse/--no-parse",
                                           help="Parse eligibility criteria of new and changed trials")]


def _report(summary: IngestSummary, db: Path, as_json: bool, strict: bool) -> None:
    if as_json:
        print_json({"db": str(db), **summary.as_dict()})
    else:
        err.print(f"Stored in {db}: {summary.inserted} new, {summary.updated} updated, "
                  f"{summary.unchanged} unchanged, {summary.older} older versions ignored; "
                  f"{len(summary.skipped)} skipped.", highlight=False)
        if summary.skipped:
            reasons = ", ".join(f"{n} {why}" for why, n in summary.skip_reasons().most_common())
            err.print(f"Skipped: {reasons}", highlight=False)
            for error in summary.skipped[:MAX_LISTED_SKIPS]:
                err.print(f"  - {error}", highlight=False, markup=False)
            if len(summary.skipped) > MAX_LISTED_SKIPS:
                err.print(f"  ... and {len(summary.skipped) - MAX_LISTED_SKIPS} more (see --json)")
    if summary.skipped and (strict or summary.read == 0):
        raise typer.Exit(1)


@app.command("ingest")
@user_errors
def ingest_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Files, directories or zips: API v2 JSON (study, page, array, JSON Lines; .gz ok) or legacy XML "
             "(files, AllPublicXML.zip)", show_default=False)] = None,
    from_text: Annotated[Optional[list[Path]], typer.Option(
        "--from-text", help="A registry or recruitment page saved as text; repeatable. Fields the page does "
                            "not state stay empty.")] = None,
    db: DbOption = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per transaction")] = 500,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any record was skipped")] = False,
    parse: ParseOption = True,
    as_json: JsonOption = False,
) -> None:
    """Load trials from files into the store (idempotent; a newer record replaces an older one)."""
    if not paths and not from_text:
        raise UserError("give files to ingest, or --from-text PAGE.txt")
    conn = open_store(db_path(db))
    with _progress(not as_json) as progress:
        items = itertools.chain(read_paths(paths or [], progress), (read_page(p) for p in from_text or []))
        summary = ingest(conn, items, batch_size=batch_size)
    _parse_criteria(conn, parse, not as_json)
    _report(summary, db_path(db), as_json, strict)


def _date(text: str | None) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--updated-since must be a date like 2025-01-31, got {text!r}") from None


@app.command("sync")
@user_errors
def sync_command(
    cond: Annotated[Optional[str], typer.Option(help="Condition or disease (query.cond)")] = None,
    term: Annotated[Optional[str], typer.Option(help="Other terms (query.term)")] = None,
    intr: Annotated[Optional[str], typer.Option(help="Intervention or treatment (query.intr)")] = None,
    locn: Annotated[Optional[str], typer.Option(help="Location terms (query.locn)")] = None,
    status: Annotated[Optional[list[str]], typer.Option(help="Overall status, repeatable (e.g. recruiting)")] = None,
    updated_since: Annotated[Optional[str], typer.Option(help="Only records updated on or after this date")] = None,
    max_records: Annotated[Optional[int], typer.Option(min=1, help="Stop after this many studies")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000)] = 1000,
    base_url: Annotated[Optional[str], typer.Option(help="API base [default: $TRIALSCOUT_CTGOV_URL or "
                                                         "https://clinicaltrials.gov/api/v2]")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each response")] = 30.0,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Retries after a 429, 5xx or network error, "
                                                             "with exponential backoff")] = 3,
    db: DbOption = None,
    parse: ParseOption = True,
    as_json: JsonOption = False,
) -> None:
    """Pull studies live from the ClinicalTrials.gov API v2 into the store."""
    if not any((cond, term, intr, locn, status, updated_since)):
        raise UserError("say what to sync: --cond, --term, --intr, --locn, --status or --updated-since")
    query = StudyQuery(cond=cond, term=term, intr=intr, locn=locn, page_size=page_size,
                       statuses=tuple(normalize_choice("status", s) for s in status or ()),
                       updated_since=_date(updated_since))
    conn = open_store(db_path(db))
    url = base_url or base_url_from_env()
    try:
        with CtgovClient(url, timeout=timeout, max_attempts=retries + 1) as client:
            summary = ingest(conn, read_studies(client.iter_studies(query, max_records), url))
    except SyncError as exc:
        raise UserError(str(exc)) from None
    _parse_criteria(conn, parse, not as_json)
    _report(summary, db_path(db), as_json, strict=False)


@app.command("demo")
@user_errors
def demo_command(db: DbOption = None) -> None:
    """Load the bundled demo corpus (dermatomyositis and more) and run a sample search."""
    from .browse import print_search

    path = db_path(db)
    conn = open_store(path)
    with _progress(True) as progress:
        summary = ingest(conn, read_paths(demo_corpus(), progress))
    _parse_criteria(conn, True, True)
    _report(summary, path, False, strict=False)
    err.print(f"\n$ trialscout search dermatomyositis --near 'Cleveland, OH' --within 500mi --db {path}\n")
    print_search(conn, "dermatomyositis", near="Cleveland, OH", within="500mi")
