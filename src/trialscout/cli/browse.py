"""`search`, `show` and `stats`: the read-only commands."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from trialscout.geo import parse_distance, resolve_place
from trialscout.model import Trial
from trialscout.model.vocab import normalize_choice
from trialscout.store import Filters, SearchResult, get_trial, open_store, search, stats

from .app import DbOption, JsonOption, UserError, app, db_path, print_json, user_errors

out = Console(highlight=False)



def result_json(result: SearchResult) -> dict:
    return {"query": result.query, "match": result.match, "total": result.total,
            "results": [h.as_dict() for h in result.hits], **({"facets": result.facets} if result.facets else {})}


def build_filters(status, phase, study_type, intervention_type, sponsor_class, country, sex, age,
                  healthy_volunteers, near, within) -> Filters:
    place = resolve_place(near) if near else None
    if within and not near:
        raise UserError("--within needs --near PLACE")
    if age is not None and not 0 <= age <= 130:
        raise UserError(f"--age must be between 0 and 130 years, got {age}")
    return Filters(
        statuses=tuple(normalize_choice("status", s) for s in status or ()),
        phases=tuple(normalize_choice("phase", p) for p in phase or ()),
        study_types=tuple(normalize_choice("study_type", s) for s in study_type or ()),
        intervention_types=tuple(normalize_choice("intervention_type", s) for s in intervention_type or ()),
        sponsor_classes=tuple(normalize_choice("sponsor_class", s) for s in sponsor_class or ()),
        countries=tuple(country or ()),
        sex=normalize_choice("sex", sex) if sex else None,
        age=age, healthy_volunteers=healthy_volunteers,
        near=place, within_km=parse_distance(within) if within else (parse_distance("100mi") if place else None))


def print_search(conn: sqlite3.Connection, query: str | None, *, filters: Filters | None = None,
                 near: str | None = None, within: str | None = None, limit: int = 10) -> None:
    if filters is None:
        filters = build_filters(None, None, None, None, None, None, None, None, None, near, within)
    result = search(conn, query, filters, limit=limit)
    shown = f"{len(result.hits)} of {result.total}" if result.total > len(result.hits) else str(result.total)
    note = " (no trial has every word; showing trials with any of them)" if result.match == "any" else ""
    out.print(f"[bold]{shown} trial(s)[/bold]{note}")
    # On a narrow terminal (or a pipe, which rich treats as 80 columns) the conditions column
    # would squeeze every other column into one word per line.
    wide = out.width >= 120
    table = Table(show_lines=False, expand=False)
    for col in ("id", "title", "status", "phase", *(("conditions",) if wide else ())):
        table.add_column(col, overflow="fold")
    if filters.near:
        table.add_column("nearest site", overflow="fold")
    for h in result.hits:
        row = [h.id, h.title, (h.overall_status or "").lower().replace("_", " "),
               ", ".join(h.phases).lower(), *(("; ".join(h.conditions[:3]),) if wide else ())]
        if filters.near:
            s = h.nearest_site
            row.append(f"{s.city or s.facility}, {s.state or s.country} ({s.distance_mi:.0f} mi)" if s else "-")
        table.add_row(*row)
    out.print(table)


@app.command("search")
@user_errors
def search_command(
    query: Annotated[Optional[str], typer.Argument(help="Words to look for; \"quoted phrases\" stay together. "
                                                        "Omit to browse with filters only.")] = None,
    status: Annotated[Optional[list[str]], typer.Option(help="Overall status, repeatable: recruiting, "
                                                             "not_yet_recruiting, completed, ...")] = None,
    phase: Annotated[Optional[list[str]], typer.Option(help="Phase, repeatable: early1, 1, 2, 3, 4, na")] = None,
    study_type: Annotated[Optional[list[str]], typer.Option(help="interventional, observational, "
                                                                 "expanded_access")] = None,
    intervention_type: Annotated[Optional[list[str]], typer.Option(help="drug, biological, device, ...")] = None,
    sponsor_class: Annotated[Optional[list[str]], typer.Option(help="industry, nih, fed, other, ...")] = None,
    country: Annotated[Optional[list[str]], typer.Option(help="Country with a site, as the registry writes it "
                                                              "(e.g. 'United States')")] = None,
    sex: Annotated[Optional[str], typer.Option(help="The person's sex (female or male): trials open to it")] = None,
    age: Annotated[Optional[float], typer.Option(help="The person's age in years: trials whose age range "
                                                      "includes it")] = None,
    healthy_volunteers: Annotated[Optional[bool], typer.Option("--healthy-volunteers/--patients-only",
                                                               help="Only trials that accept (or do not "
                                                                    "accept) healthy volunteers")] = None,
    near: Annotated[Optional[str], typer.Option(help="'City, ST', 'City, Country' or 'LAT,LON'")] = None,
    within: Annotated[Optional[str], typer.Option(help="Distance from --near, e.g. 100mi or 50km "
                                                       "[default: 100mi]")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    facets: Annotated[bool, typer.Option(help="Include facet counts in --json output")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank trials by relevance (BM25: title and conditions weigh most), with filters."""
    filters = build_filters(status, phase, study_type, intervention_type, sponsor_class, country, sex, age,
                            healthy_volunteers, near, within)
    conn = open_store(db_path(db), create=False, readonly=True)
    if as_json:
        print_json(result_json(search(conn, query, filters, limit=limit, offset=offset, facets=facets)))
    else:
        print_search(conn, query, filters=filters, limit=limit)


def _age_range(t: Trial) -> str:
    e = t.eligibility
    if not e or (not e.minimum_age and not e.maximum_age):
        return "not stated"
    low = e.minimum_age.text if e.minimum_age else "no minimum"
    high = e.maximum_age.text if e.maximum_age else "no maximum"
    return f"{low} to {high}"


def print_trial(t: Trial) -> None:
    out.print(f"[bold]{t.title}[/bold]")
    facts = [("id", t.id + (f"  (also: {', '.join(t.aliases)})" if t.aliases else "")),
             ("official title", t.official_title), ("status", t.overall_status),
             ("why stopped", t.why_stopped), ("phase", ", ".join(t.phases)), ("study type", t.study_type),
             ("enrollment", " ".join(x for x in (str(t.enrollment), (t.enrollment_type or "").lower()) if x)
              if t.enrollment is not None else None),
             ("sponsor", t.lead_sponsor.name if t.lead_sponsor else None),
             ("conditions", "; ".join(t.conditions)),
             ("interventions", "; ".join(f"{(i.type or '').lower()}: {i.name}" for i in t.interventions)),
             ("ages", _age_range(t)), ("sex", t.eligibility.sex if t.eligibility else None),
             ("start", t.start_date.date if t.start_date else None),
             ("last update", t.last_update), ("source", t.source)]
    grid = Table.grid(padding=(0, 2))
    for label, value in facts:
        if value:
            grid.add_row(f"[dim]{label}[/dim]", str(value))
    out.print(grid)
    if t.brief_summary:
        out.print("\n[bold]Summary[/bold]")
        out.print(t.brief_summary, markup=False)
    if t.eligibility and t.eligibility.criteria:
        out.print("\n[bold]Eligibility criteria[/bold]")
        out.print(t.eligibility.criteria, markup=False)
    if t.locations:
        out.print(f"\n[bold]Sites ({len(t.locations)})[/bold]")
        for loc in t.locations[:15]:
            place = ", ".join(x for x in (loc.facility, loc.city, loc.state, loc.country) if x)
            out.print(f"- {place}" + (f" [{loc.status.lower()}]" if loc.status else ""), markup=False)
        if len(t.locations) > 15:
            out.print(f"  ... and {len(t.locations) - 15} more (see --json)")


@app.command("show")
@user_errors
def show_command(trial_id: Annotated[str, typer.Argument(help="NCT id or other trial id")], db: DbOption = None,
                 as_json: JsonOption = False) -> None:
    """Print one trial."""
    conn = open_store(db_path(db), create=False, readonly=True)
    trial = get_trial(conn, trial_id)
    if trial is None:
        raise UserError(f"no trial {trial_id!r} in {db_path(db)}")
    if as_json:
        typer.echo(trial.model_dump_json(indent=2))
    else:
        print_trial(trial)


@app.command("stats")
@user_errors
def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Counts of trials by status, phase and study type."""
    conn = open_store(db_path(db), create=False, readonly=True)
    data = stats(conn)
    if as_json:
        print_json(data)
        return
    out.print(f"[bold]{data['trials']} trials[/bold], {data['sites_with_coordinates']} sites with coordinates")
    for key in ("by_status", "by_phase", "by_study_type", "by_source"):
        table = Table(title=key.replace("_", " "), title_justify="left")
        table.add_column("value")
        table.add_column("trials", justify="right")
        for value, n in data[key].items():
            table.add_row(value, str(n))
        out.print(table)
