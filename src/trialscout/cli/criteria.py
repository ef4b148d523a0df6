"""`trialscout criteria NCT...`: a stored trial's parsed eligibility criteria."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trialscout.criteria import Criterion, Fact, criteria_for, describe_fact
from trialscout.store import open_store

from .app import DbOption, JsonOption, UserError, app, db_path, print_json, user_errors

out = Console(highlight=False)


def criteria_json(trial_id: str, criteria: list[Criterion]) -> dict:
    return {"trial": trial_id, "criteria": [c.model_dump(mode="json") for c in criteria]}


def _facts_cell(facts: tuple[Fact, ...]) -> str:
    return "\n".join(escape(describe_fact(f)) for f in facts) or "[dim]unparsed[/dim]"


@app.command("criteria")
@user_errors
def criteria_command(
    trials: Annotated[list[str], typer.Argument(help="Trial ids (NCT ids or trialscout ids)")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a stored trial's eligibility criteria, parsed into computable facts."""
    conn = open_store(db_path(db), create=False)
    results = []
    for ident in trials:
        criteria = criteria_for(conn, ident)
        if criteria is None:
            raise UserError(f"no trial {ident!r} in {db_path(db)}")
        results.append((ident, criteria))
    if as_json:
        data = [criteria_json(i, c) for i, c in results]
        print_json(data[0] if len(data) == 1 else data)
        return
    for ident, criteria in results:
        parsed = sum(1 for c in criteria if c.facts)
        table = Table(title=f"{ident}: {len(criteria)} criteria, {parsed} parsed", show_lines=True,
                      title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("section")
        table.add_column("criterion", ratio=3)
        table.add_column("parsed as", ratio=2)
        for c in criteria:
            num = f"{c.id}" if c.parent is None else f"  {c.id}↳{c.parent}"
            logic = f" [dim]({c.logic}{' ' + str(c.min_count) if c.min_count else ''})[/dim]" \
                if len(c.facts) > 1 or c.min_count else ""
            table.add_row(num, c.section[:3], escape(c.text), _facts_cell(c.facts) + logic)
        out.print(table)
