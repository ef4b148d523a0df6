"""`trialscout match PATIENT`: the trials a patient could join, ranked, criterion by criterion.

The patient file is read into memory, matched and forgotten: nothing about it is stored or logged.
With ``--judge`` (and a server configured, see docs/llm-judge.md) the record of the trials shown is sent to
that language model server, and only there.
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
from trialscout.match.judge import LLMJudge, PatientText, judge_matches
from trialscout.patients import Patient, PatientInputError, load_patient
from trialscout.store import open_store

from .app import DbOption, JsonOption, UserError, app, db_path, print_json, user_errors
from .eval_match import judge_config

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
            if c.judged_by == "llm":
                out.print(f"{indent}    [dim]{escape(c.reason[:200])}[/dim]")
            elif c.state in ("met", "not_met") and c.evidence:
                ev = c.evidence[0]
                src = ev.provenance.ref or ev.provenance.source
                out.print(f"{indent}    [dim]evidence: {escape(ev.text)} ({escape(src)})[/dim]")
            if c.judge_note:
                out.print(f"{indent}    [dim]judge: {escape(c.judge_note)}[/dim]")
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
    judge: Annotated[bool, typer.Option("--judge", help="Let the language model server in $TRIALSCOUT_LLM_URL "
                                        "re-check the criteria of the trials shown (sends it the patient "
                                        "record; docs/llm-judge.md)")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which trials could this patient join? Each criterion marked met / not met / unknown / n/a."""
    config = judge_config() if judge else None
    day = _as_of(as_of)
    if within and not near:
        raise UserError("--within needs --near PLACE")
    try:
        person = load_patient(patient, day)
    except PatientInputError as exc:
        raise UserError(str(exc)) from None
    place = resolve_place(near) if near else None
    conn = open_store(db_path(db), create=False)
    candidates = Candidates(trial_ids=tuple(trial or ()), recruiting_only=recruiting_only, near=place,
                            within_km=parse_distance(within or "100mi") if place else None)
    matches = match_patient(conn, person, day, candidates)
    if trial and not matches:
        raise UserError(f"none of {', '.join(trial)} is in {db_path(db)}")
    judged: dict[str, int] | None = None
    if config is not None:
        with LLMJudge(config) as llm:
            matches = judge_matches(matches, llm, _record(patient, person), top)
        judged = dict(sorted(llm.counts.items()))
    if as_json:
        print_json({"as_of": day.isoformat(), "patient_problems": person.problems,
                    "results": [m.model_dump(mode="json") for m in matches[:top]]}
                   | ({"judge": judged} if judged is not None else {}))
        return
    if judged is not None:
        out.print(f"LLM judge ({config.model} at {config.host}): "  # type: ignore[union-attr]
                  + (", ".join(f"{k} {n}" for k, n in judged.items()) or "nothing to judge"), markup=False)
    for problem in person.problems:
        out.print(f"[yellow]note:[/yellow] {escape(problem)}")
    _print(matches, top, details)


def _record(path: Path, person: Patient) -> PatientText:
    """What the judge reads: a note's own sentences, or a structured patient's facts one per line."""
    sources = {f.provenance.source for f in person.facts}
    if "note" in sources or not sources and path.suffix.lower() not in (".json", ".yaml", ".yml"):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        if "note" in sources or not text.lstrip().startswith("{"):
            return PatientText.from_note(text, person)
    return PatientText.from_patient(person)
