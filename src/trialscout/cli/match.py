"""`trialscout match PATIENT`: the trials a patient could join, ranked, criterion by criterion.

The patient file is read into memory, matched and forgotten: nothing about it is stored or logged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trialscout.geo import parse_distance, resolve_place
from trialscout.match import Candidates, TrialMatch, match_patient
from trialscout.patients import PatientInputError, load_patient
from trialscout.store import open_store

from .app import DbOption, JsonOption, UserError, app, db_path, print_json, user_errors

out = Console(highlight=False)
_MARK = {"met": "[green]✓ met[/green]", "not_met": "[red]✗ not met[/red]", "unknown": "[yellow]? unknown[/yellow]",
         "not_applicable": "[dim]– n/a[/dim]"}
_VERDICT = {"eligible": "[bold green]eligible[/bold green]", "possibly_eligible": "[yellow]possibly eligible[/yellow]",
            "ineligible": "[red]ineligible[/red]"}


def _as_of(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of must be a date like 2026-01-31, got {text!r}") from None


def _print(matches: list[TrialMatch], top: int, details: bool) -> None:
    table = Table(title=f"{len(matches)} trial(s) checked", title_justify="left")
    for col in ("#", "trial", "verdict", "open questions", "title / deciding criterion"):
        table.add_column(col)
    for rank, m in enumerate(matches[:top], 1):
        why = escape(m.title or "")
        if m.deciding:
            first = next(c for c in m.criteria if c.id == m.deciding[0])
            why += f"\n[dim]{first.section}: {escape(first.text[:100])}[/dim]"
        table.add_row(str(rank), m.trial, _VERDICT[m.verdict], str(m.unknowns), why)
    out.print(table)
    if not details:
        return
    for m in matches[:top]:
        out.print(f"\n[bold]{m.trial}[/bold] {_VERDICT[m.verdict]}  {escape(m.title or '')}")
        for c in m.criteria:
            indent = "    " if c.parent is not None else "  "
            out.print(f"{indent}{_MARK[c.state]}  {c.section[:3]}  {escape(c.text[:110])}")
            if c.state in ("met", "not_met") and c.evidence:
                ev = c.evidence[0]
                src = ev.provenance.ref or ev.provenance.source
                out.print(f"{indent}    [dim]evidence: {escape(ev.text)} ({escape(src)})[/dim]")
        if m.questions:
            out.print("  [bold]To ask the study team or check:[/bold]")
            for q in m.questions[:8]:
                out.print(f"   - {q}", markup=False)
    out.print("\n[dim]trialscout does not give medical advice; the study team decides who can join a trial.[/dim]")


@app.command("match")
@user_errors
def match_command(
    patient: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON), a profile (JSON/YAML) or a note (text)",
                                            show_default=False)],
    trial: Annotated[Optional[list[str]], typer.Option("--trial", help="Check only these trials; repeatable")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many trials to show")] = 10,
    near: Annotated[Optional[str], typer.Option(help="Only trials with a site near this place")] = None,
    within: Annotated[Optional[str], typer.Option(help="Distance for --near (e.g. 50mi, 80km)")] = None,
    recruiting_only: Annotated[bool, typer.Option("--recruiting-only", help="Only recruiting or not yet "
                                                                             "recruiting trials")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Count time windows back from this date "
                                                                 "[default: today]")] = None,
    details: Annotated[bool, typer.Option("--details/--summary", help="Per-criterion breakdown")] = True,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which trials could this patient join? Each criterion marked met / not met / unknown / n/a."""
    day = _as_of(as_of)
    if within and not near:
        raise UserError("--within needs --near PLACE")
    try:
        person = load_patient(patient)
    except PatientInputError as exc:
        raise UserError(str(exc)) from None
    place = resolve_place(near) if near else None
    conn = open_store(db_path(db), create=False)
    candidates = Candidates(trial_ids=tuple(trial or ()), recruiting_only=recruiting_only, near=place,
                            within_km=parse_distance(within or "100mi") if place else None)
    matches = match_patient(conn, person, day, candidates)
    if trial and not matches:
        raise UserError(f"none of {', '.join(trial)} is in {db_path(db)}")
    if as_json:
        print_json({"as_of": day.isoformat(), "patient_problems": person.problems,
                    "results": [m.model_dump(mode="json") for m in matches[:top]]})
        return
    for problem in person.problems:
        out.print(f"[yellow]note:[/yellow] {escape(problem)}")
    _print(matches, top, details)
