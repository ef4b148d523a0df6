"""Ranked full-text search (SQLite FTS5, BM25 over weighted fields) with combinable filters."""

from __future__ import annotations

import math
import re
import sqlite3
import zlib
from dataclasses import asdict, dataclass, field

import orjson

from trialscout.geo import Place, bounding_box, haversine_km
from trialscout.geo.distance import EARTH_RADIUS_KM
from trialscout.model import Location


# Weights of the FTS columns in schema order: a word in the title or the conditions says
# far more about what a trial is for than the same word deep in the description.
WEIGHTS = {"title": 10.0, "conditions": 8.0, "interventions": 5.0, "mesh": 3.0, "keywords": 4.0,
           "summary": 2.0, "description": 1.0, "criteria": 0.5}
_WEIGHT_ARGS = ", ".join(str(w) for w in WEIGHTS.values())
_TOKEN = re.compile(r'"([^"]*)"|([^\W_]+)', re.UNICODE)
_STOP = {"a", "an", "and", "or", "not", "the", "of", "in", "on", "for", "with", "to", "by", "at", "near"}
KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class Filters:
    """Every filter is optional and they combine with AND; values are API v2 spellings."""

    statuses: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    study_types: tuple[str, ...] = ()
    intervention_types: tuple[str, ...] = ()
    sponsor_classes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sex: str | None = None  # the person's sex: trials open to ALL or to this sex match
    age: float | None = None  # the person's age in years; an absent trial bound is open
    healthy_volunteers: bool | None = None  # True: only trials that accept healthy volunteers
    near: Place | None = None
    within_km: float | None = None


@dataclass
class NearestSite:
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None
    distance_km: float
    geo_source: str | None

    @property
    def distance_mi(self) -> float:
        return self.distance_km / KM_PER_MILE


@dataclass
class Hit:
    id: str
    nct_id: str | None
    title: str
    overall_status: str | None
    phases: list[str]
    study_type: str | None
    conditions: list[str]
    enrollment: int | None
    sponsor: str | None
    score: float
    snippet: str | None
    nearest_site: NearestSite | None = None

    def as_dict(self) -> dict:
        """The JSON form shared by `trialscout search --json` and the web API (docs/json.md)."""
        data = asdict(self)
        data["score"] = round(self.score, 4)
        if (site := self.nearest_site) is not None:
            data["nearest_site"]["distance_km"] = round(site.distance_km, 1)
            data["nearest_site"]["distance_mi"] = round(site.distance_mi, 1)
        return data


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    query: str | None
    # "all" words, "any" word (fallback when no trial has them all), "browse" (no query: filters
    # only, newest first) or "none" (the query had no searchable word)
    match: str
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def fts_expression(query: str, mode: str = "all") -> str | None:
    """Turn what a person typed into a safe FTS5 expression.

    FTS5 syntax (quotes, AND/OR/NOT, column filters, *, ^) must never leak into the engine
    as an error, so every word or quoted phrase becomes a quoted string of plain tokens.
    """
    parts = []
    for phrase, word in _TOKEN.findall(query):
        if phrase:
            tokens = re.findall(r"[^\W_]+", phrase)
            if tokens:
                parts.append('"' + " ".join(tokens) + '"')
        elif word.lower() not in _STOP:
            parts.append(f'"{word}"')
    if not parts:
        return None
    return (" OR " if mode == "any" else " AND ").join(parts)


def _filter_sql(f: Filters, site_trials: list[int] | None) -> tuple[list[str], list]:
    where, args = [], []

    def facet(name: str, values: tuple[str, ...]) -> None:
        if values:
            where.append(f"t.rowid IN (SELECT trial FROM facets WHERE facet = ? AND value IN "
                         f"({','.join('?' * len(values))}))")
            args.extend([name, *values])

    facet("status", f.statuses)
    facet("phase", f.phases)
    facet("study_type", f.study_types)
    facet("intervention_type", f.intervention_types)
    facet("sponsor_class", f.sponsor_classes)
    if f.countries:
        where.append(f"t.rowid IN (SELECT trial FROM facets WHERE facet = 'country' AND value IN "
                     f"({','.join('?' * len(f.countries))}) COLLATE NOCASE)")
        args.extend(f.countries)
    if f.sex:
        where.append("(t.sex IS NULL OR t.sex = 'ALL' OR t.sex = ?)")
        args.append(f.sex)
    if f.age is not None:
        where.append("(t.min_age_years IS NULL OR t.min_age_years <= ?) AND "
                     "(t.max_age_years IS NULL OR t.max_age_years >= ?)")
        args.extend([f.age, f.age])
    if f.healthy_volunteers is not None:
        where.append("t.healthy_volunteers = ?")
        args.append(int(f.healthy_volunteers))
    if site_trials is not None:
        where.append("t.rowid IN (SELECT value FROM json_each(?))")
        args.append("[" + ",".join(map(str, site_trials)) + "]")
    return where, args


def nearest_site(locations: list[Location], place: Place) -> NearestSite | None:
    best = None
    for loc in locations:
        if loc.lat is None or loc.lon is None:
            continue
        d = haversine_km(place.lat, place.lon, loc.lat, loc.lon)
        if best is None or d < best.distance_km:
            best = NearestSite(loc.facility, loc.city, loc.state, loc.country, loc.status, d, loc.geo_source)
    return best


def _nearest_raw(locations: list[dict], place: Place) -> NearestSite | None:
    """nearest_site() over the stored JSON of the locations, without building Location models."""
    best = None
    for loc in locations:
        lat, lon = loc.get("lat"), loc.get("lon")
        if lat is None or lon is None:
            continue
        d = haversine_km(place.lat, place.lon, lat, lon)
        if best is None or d < best.distance_km:
            best = NearestSite(loc.get("facility"), loc.get("city"), loc.get("state"), loc.get("country"),
                               loc.get("status"), d, loc.get("geo_source"))
    return best


def search(conn: sqlite3.Connection, query: str | None, filters: Filters = Filters(), *, limit: int = 20,
           offset: int = 0, facets: bool = False) -> SearchResult:
    where, args = _filter_sql(filters, None)
    if filters.near is not None and filters.within_km is not None:
        clause, near_args = _near_sql(filters.near, filters.within_km)
        where.append(clause)
        args.extend(near_args)

    total, rows = 0, []
    match, expression = "browse", fts_expression(query or "")
    if expression:
        match = "all"
        total, rows = _ranked(conn, expression, where, args, limit, offset)
        any_words = fts_expression(query or "", "any")
        if not total and any_words != expression:
            match, expression = "any", any_words
            total, rows = _ranked(conn, expression, where, args, limit, offset)
    elif query and query.strip():
        match = "none"  # words were typed but none is searchable (only operators or stop words)
    else:
        total, rows = _browse(conn, where, args, limit, offset)
    hits = [_hit(conn, row, filters.near) for row in _page_details(conn, expression if match in ('all', 'any') else None, rows)]
    result = SearchResult(total=total, hits=hits, query=query, match=match)
    if facets and match != "none":
        result.facets = facet_counts(conn, expression, where, args)
    return result


def _ranked(conn, expr, where, args, limit, offset):
    # One pass over the matches: they are scored (and filtered) once into a temporary table; the count
    # and the page come from it, and only the page and rows tied with its last score are joined to
    # trials for the id tie-break (the stored rows are large, so reading one per match is the cost).
    # snippet() and the shown columns are computed for the page only (_page_details).
    if where:
        matches = (f"SELECT t.rowid AS rowid, bm25(trials_fts, {_WEIGHT_ARGS}) AS s FROM trials_fts "
                   f"JOIN trials t ON t.rowid = trials_fts.rowid WHERE {' AND '.join(['trials_fts MATCH ?', *where])}")
    else:
        matches = f"SELECT rowid, bm25(trials_fts, {_WEIGHT_ARGS}) AS s FROM trials_fts WHERE trials_fts MATCH ?"
    rows = conn.execute(
        f"WITH r AS MATERIALIZED ({matches}) "
        f"SELECT r.rowid AS rowid, t.id AS id, r.s AS score, (SELECT count(*) FROM r) AS total "
        f"FROM r JOIN trials t ON t.rowid = r.rowid "
        f"WHERE r.s <= coalesce((SELECT s FROM r ORDER BY s LIMIT 1 OFFSET ?), 1e308) "
        f"ORDER BY r.s, t.id LIMIT ? OFFSET ?", (expr, *args, limit + offset - 1, limit, offset)).fetchall()
    if rows:
        return rows[0]["total"], rows
    clause = " AND ".join(["trials_fts MATCH ?", *where])
    total = conn.execute(f"SELECT count(*) FROM trials_fts JOIN trials t ON t.rowid = trials_fts.rowid "
                         f"WHERE {clause}", (expr, *args)).fetchone()[0]
    return total, []


def _page_details(conn, expr: str | None, ranked: list) -> list:
    """The columns a hit shows, for the ranked page only, in ranked order."""
    if not ranked or expr is None:
        return ranked
    ids = [r["rowid"] for r in ranked]
    found = {row["rowid"]: row for row in conn.execute(
        f"SELECT t.rowid, t.id, t.nct_id, t.title, t.overall_status, t.phases, t.study_type, t.enrollment, "
        f"t.sponsor, trials_fts.conditions AS conditions, "
        f"snippet(trials_fts, 5, '[', ']', '…', 24) AS snippet "
        f"FROM trials_fts JOIN trials t ON t.rowid = trials_fts.rowid "
        f"WHERE trials_fts MATCH ? AND trials_fts.rowid IN ({','.join('?' * len(ids))})", (expr, *ids))}
    return [_Row(found[r["rowid"]], r["score"]) for r in ranked]


class _Row:
    """A details row with the score from the ranking query."""

    __slots__ = ("_row", "_score")

    def __init__(self, row, score):
        self._row, self._score = row, score

    def __getitem__(self, key):
        return self._score if key == "score" else self._row[key]


_RAD = math.pi / 180  # as math.radians computes it, so SQL and Python distances agree to the bit


def _near_sql(place: Place, radius_km: float) -> tuple[str, list]:
    """Trials with a site within radius_km, as SQL: the R*Tree box, then haversine_km's exact formula
    in SQLite's math functions (no Python per site)."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(place.lat, place.lon, radius_km)
    phi1 = math.radians(place.lat)
    clause = ("t.rowid IN (SELECT s.trial FROM sites_box b JOIN sites s ON s.id = b.id "
              "WHERE b.max_lat >= ? AND b.min_lat <= ? AND b.max_lon >= ? AND b.min_lon <= ? "
              "AND 2 * ? * asin(min(1.0, sqrt(pow(sin((s.lat * ? - ?) / 2), 2) "
              "+ ? * cos(s.lat * ?) * pow(sin(((s.lon - ?) * ?) / 2), 2)))) <= ?)")
    return clause, [min_lat, max_lat, min_lon, max_lon, EARTH_RADIUS_KM, _RAD, phi1, math.cos(phi1), _RAD,
                    place.lon, _RAD, radius_km]


def _browse(conn, where, args, limit, offset):
    clause = " AND ".join(where) or "1"
    total = conn.execute(f"SELECT count(*) FROM trials t WHERE {clause}", args).fetchone()[0]
    rows = conn.execute(
        f"SELECT t.rowid, t.id, t.nct_id, t.title, t.overall_status, t.phases, t.study_type, t.enrollment, "
        f"t.sponsor, f.conditions AS conditions, 0.0 AS score, NULL AS snippet "
        f"FROM trials t JOIN trials_fts f ON f.rowid = t.rowid WHERE {clause} "
        f"ORDER BY t.last_update DESC, t.id LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
    return total, rows


def _hit(conn, row, near: Place | None) -> Hit:
    site = None
    if near is not None:
        blob = conn.execute("SELECT record FROM trials WHERE rowid = ?", (row["rowid"],)).fetchone()[0]
        site = _nearest_raw(orjson.loads(zlib.decompress(blob)).get("locations") or [], near)
    return Hit(id=row["id"], nct_id=row["nct_id"], title=row["title"], overall_status=row["overall_status"],
               phases=row["phases"].split(",") if row["phases"] else [], study_type=row["study_type"],
               conditions=[c for c in (row["conditions"] or "").split("\n") if c], enrollment=row["enrollment"],
               sponsor=row["sponsor"], score=-row["score"], snippet=row["snippet"] or None, nearest_site=site)


def facet_counts(conn, expression: str | None, where: list[str], args: list) -> dict[str, dict[str, int]]:
    """How many of the matching trials fall in each facet value (for refining a search)."""
    clause = " AND ".join(where) or "1"
    if expression:
        matching = (f"SELECT t.rowid FROM trials_fts JOIN trials t ON t.rowid = trials_fts.rowid "
                    f"WHERE trials_fts MATCH ? AND {clause}")
        params = [expression, *args]
    else:
        matching = f"SELECT t.rowid FROM trials t WHERE {clause}"
        params = list(args)
    counts: dict[str, dict[str, int]] = {}
    for facet, value, n in conn.execute(
            f"SELECT facet, value, count(*) FROM facets WHERE trial IN ({matching}) "
            f"AND facet IN ('status', 'phase', 'study_type', 'intervention_type', 'sex', 'healthy_volunteers') "
            f"GROUP BY facet, value ORDER BY facet, count(*) DESC", params):
        counts.setdefault(facet, {})[value] = n
    return counts
