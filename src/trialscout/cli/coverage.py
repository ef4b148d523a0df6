"""`trialscout eval coverage FILE...`: how much of real criteria text the parser turns into facts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from trialscout.criteria import parse_criteria
from trialscout.criteria.coverage import coverage
from trialscout.sources import RecordError, read_paths

from .app import JsonOption, UserError, print_json, user_errors
from .eval import eval_app

out = Console(highlight=False)


@eval_app.command("coverage")
@user_errors
def coverage_command(
    paths: Annotated[list[Path], typer.Argument(help="Trial files, directories or zips (as for ingest)",
                                                show_default=False)],
    as_json: JsonOption = False,
) -> None:
    """Share of criteria parsed into a structured kind rather than "unparsed", by kind."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError(f"{missing[0]}: no such file or directory")
    texts, skipped = [], 0
    for item in read_paths(paths):
        if isinstance(item, RecordError):
            skipped += 1
        elif item.eligibility and item.eligibility.criteria:
            texts.append(item.eligibility.criteria)
    if not texts:
        raise UserError("no trial with eligibility criteria in " + ", ".join(map(str, paths)))
    start = time.perf_counter()
    cov = coverage(parse_criteria(t) for t in texts)
    seconds = time.perf_counter() - start
    result = {**cov.as_dict(), "skipped_records": skipped, "seconds": round(seconds, 2),
              "criteria_per_second": round((cov.criteria + cov.headings_and_notes) / seconds)}
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{cov.trials:,} trials, {cov.criteria:,} criteria: {cov.share:.1%} structured "
                        f"({cov.headings_and_notes:,} headings and notes not counted)",
                  title_justify="left", box=box.SIMPLE, pad_edge=False)
    table.add_column("criterion kind")
    table.add_column("criteria", justify="right")
    table.add_column("share", justify="right")
    table.add_column("facts of this kind", justify="right")
    for kind, n in cov.by_kind.most_common():
        if kind in ("heading", "note"):
            continue
        table.add_row(kind, f"{n:,}", f"{n / cov.criteria:.1%}", f"{cov.facts_by_kind.get(kind, 0):,}")
    out.print(table)
    out.print(f"[dim]A criterion's kind is that of its first fact; {result['criteria_per_second']:,} "
              f"criteria/s including splitting.[/dim]")
