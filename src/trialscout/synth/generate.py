"""Build a registry-sized corpus in API v2 JSON by resampling real ClinicalTrials.gov records.

How a synthetic study is made (see docs/scale.md for the limits):

* **topic donor** (one real trial, uniform): titles, acronym, conditions, keywords, condition and
  intervention MeSH terms, arms, interventions, study type, phases, design, primary outcomes, brief
  summary and the whole eligibility module (criteria text, sex, ages, healthy volunteers). These stay
  together so a record is coherent: its criteria are about the disease in its title.
* **description donor** (another real trial, uniform): the detailed description, so long-text term
  statistics are those of real descriptions but recombined across trials.
* **status**: drawn from the real status mix, re-weighted so RECRUITING + NOT_YET_RECRUITING make up
  ``open_share`` of the corpus (12% by default, about the registry's share; the bundled samples are
  mostly old completed trials). The dates block (start, completion, first posted, last update) is
  copied from a real trial *with that status*, so open trials have recent dates.
* **enrollment** from one real trial, **sponsor** from another, **site count** from another; each
  site is drawn from the pool of every real site (facility, city, country, coordinates), with the
  site status following the trial's.
* **ids**: ``NCT9xxxxxxx`` numbered in order (unique, never a real NCT id from the samples).

One random stream per seed, consumed record by record: the same seed gives byte-identical files, and
the first k records are the same whatever n is. Output is streamed (JSON Lines, gzip, in shards), so
memory stays flat whatever n.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import itertools
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from trialscout.model import Trial
from trialscout.sources import RecordError, read_paths

DEFAULT_SOURCES = (Path("/work/shared/data/ctgov/ctg-studies-sample.json"),
                   Path("/work/shared/data/ctgov/AllPublicXML-sample.zip"))
OPEN = ("RECRUITING", "NOT_YET_RECRUITING")
ID_BASE = 90_000_000  # synthetic NCT ids start at NCT90000000
SHARD_SIZE = 50_000
# No .json suffix, so `trialscout ingest DIR` reads only the studies.
MANIFEST = "MANIFEST"

Json = dict


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


def _date_struct(point) -> dict | None:
    if point is None:
        return None
    return _drop_none({"date": point.date, "type": point.type})


def _topic(t: Trial) -> Json:
    """The modules that travel together from the topic donor (API v2 spellings)."""
    e = t.eligibility
    ident = _drop_none({"briefTitle": t.brief_title, "officialTitle": t.official_title, "acronym": t.acronym})
    design_info = None
    if t.design:
        d = t.design
        design_info = _drop_none({
            "allocation": d.allocation, "interventionModel": d.intervention_model,
            "primaryPurpose": d.primary_purpose, "observationalModel": d.observational_model,
            "timePerspective": d.time_perspective,
            "maskingInfo": _drop_none({"masking": d.masking, "whoMasked": d.who_masked}) or None})
    mesh = lambda terms: [_drop_none({"id": m.id, "term": m.term}) for m in terms]  # noqa: E731
    elig = None
    if e:
        elig = _drop_none({
            "eligibilityCriteria": e.criteria, "healthyVolunteers": e.healthy_volunteers, "sex": e.sex,
            "genderBased": e.gender_based,
            "minimumAge": e.minimum_age.text if e.minimum_age else None,
            "maximumAge": e.maximum_age.text if e.maximum_age else None,
            "stdAges": e.std_ages, "studyPopulation": e.study_population})
    return {
        "ident": ident,
        "brief_summary": t.brief_summary,
        "conditions": _drop_none({"conditions": t.conditions, "keywords": t.keywords}),
        "design": _drop_none({"studyType": t.study_type, "phases": t.phases, "designInfo": design_info}),
        "arms": _drop_none({
            "armGroups": [_drop_none({"label": a.label, "type": a.type, "description": a.description,
                                      "interventionNames": a.interventions}) for a in t.arms],
            "interventions": [_drop_none({"type": i.type, "name": i.name, "description": i.description,
                                          "otherNames": i.other_names, "armGroupLabels": i.arm_labels})
                              for i in t.interventions]}),
        "outcomes": _drop_none({
            f"{kind}Outcomes": [_drop_none({"measure": o.measure, "timeFrame": o.time_frame})
                                for o in t.outcomes if o.kind == kind]
            for kind in ("primary", "secondary")}),
        "eligibility": elig,
        "derived": _drop_none({
            "conditionBrowseModule": _drop_none({"meshes": mesh(t.condition_mesh),
                                                 "ancestors": mesh(t.condition_mesh_ancestors)}),
            "interventionBrowseModule": _drop_none({"meshes": mesh(t.intervention_mesh),
                                                    "ancestors": mesh(t.intervention_mesh_ancestors)})}),
    }


def _dates(t: Trial) -> Json:
    return _drop_none({
        "startDateStruct": _date_struct(t.start_date),
        "primaryCompletionDateStruct": _date_struct(t.primary_completion_date),
        "completionDateStruct": _date_struct(t.completion_date),
        "studyFirstPostDateStruct": _date_struct(t.first_posted),
        "lastUpdatePostDateStruct": _date_struct(t.last_update_posted)})


@dataclass
class Pool:
    """What the generator draws from: one entry per real trial, plus the real distributions."""

    sources: list[str]
    topics: list[Json] = field(default_factory=list)
    descriptions: list[str | None] = field(default_factory=list)
    dates_by_status: dict[str, list[Json]] = field(default_factory=dict)
    status_weights: dict[str, float] = field(default_factory=dict)
    enrollments: list[tuple[int | None, str | None]] = field(default_factory=list)
    sponsors: list[Json | None] = field(default_factory=list)
    site_counts: list[int] = field(default_factory=list)
    sites: list[Json] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.topics)

    def digest(self) -> str:
        """Identifies the pool's content (part of the manifest, so a corpus says what it came from)."""
        h = hashlib.sha1()
        for topic in self.topics:
            h.update(orjson.dumps(topic.get("ident")))
        return h.hexdigest()[:12]


_POOLS: dict[tuple, Pool] = {}


def load_pool(paths: Iterable[Path] = DEFAULT_SOURCES, open_share: float = 0.12) -> Pool:
    """Read every real record once and keep the parts the generator recombines (memoised per process)."""
    paths = [Path(p) for p in paths]
    key = (tuple(str(p.resolve()) for p in paths), open_share)
    if key not in _POOLS:
        _POOLS.clear()  # keep one pool at most
        _POOLS[key] = _load_pool(paths, open_share)
    return _POOLS[key]


def _load_pool(paths: list[Path], open_share: float) -> Pool:
    trials = sorted((t for t in read_paths(paths) if not isinstance(t, RecordError)), key=lambda t: t.id)
    if not trials:
        raise ValueError(f"no readable trials in {', '.join(map(str, paths))}")
    pool = Pool(sources=[str(p) for p in paths])
    statuses: Counter[str] = Counter()
    for t in trials:
        pool.topics.append(_topic(t))
        pool.descriptions.append(t.detailed_description)
        status = t.overall_status or "UNKNOWN"
        statuses[status] += 1
        pool.dates_by_status.setdefault(status, []).append(_dates(t))
        pool.enrollments.append((t.enrollment, t.enrollment_type))
        pool.sponsors.append({"name": t.lead_sponsor.name, "class": t.lead_sponsor.cls} if t.lead_sponsor else None)
        pool.site_counts.append(len(t.locations))
        for loc in t.locations:
            site = _drop_none({"facility": loc.facility, "city": loc.city, "state": loc.state, "zip": loc.zip,
                               "country": loc.country})
            if loc.lat is not None and loc.lon is not None:
                site["geoPoint"] = {"lat": loc.lat, "lon": loc.lon}
            pool.sites.append(site)
    pool.status_weights = _reweight(statuses, open_share)
    return pool


def _reweight(counts: Counter[str], open_share: float) -> dict[str, float]:
    """The real status mix, scaled so the open statuses (when present) sum to open_share."""
    total = sum(counts.values())
    open_n = sum(counts[s] for s in OPEN)
    closed_n = total - open_n
    if not open_n or not closed_n:
        return {s: n / total for s, n in sorted(counts.items())}
    return {s: (open_share * n / open_n if s in OPEN else (1 - open_share) * n / closed_n)
            for s, n in sorted(counts.items())}


def generate_studies(pool: Pool, n: int, seed: int = 0) -> Iterator[Json]:
    """n API v2 studies; deterministic for (pool, seed), and a prefix of any longer run with the same seed."""
    rng = random.Random(seed)
    statuses = list(pool.status_weights)
    cumulative = list(itertools.accumulate(pool.status_weights[s] for s in statuses))
    size = pool.size
    for i in range(n):
        topic = pool.topics[rng.randrange(size)]
        description = pool.descriptions[rng.randrange(size)]
        status = statuses[min(bisect.bisect_left(cumulative, rng.random() * cumulative[-1]), len(statuses) - 1)]
        dated = pool.dates_by_status[status]
        dates = dated[rng.randrange(len(dated))]
        count, count_type = pool.enrollments[rng.randrange(size)]
        sponsor = pool.sponsors[rng.randrange(size)]
        n_sites = pool.site_counts[rng.randrange(size)]
        site_status = status if status in OPEN or status in ("ACTIVE_NOT_RECRUITING", "COMPLETED") else None
        sites = []
        for _ in range(n_sites):
            site = dict(pool.sites[rng.randrange(len(pool.sites))])
            if site_status:
                site["status"] = site_status
            sites.append(site)
        nct = f"NCT{ID_BASE + i:08d}"
        protocol = {
            "identificationModule": {"nctId": nct, "orgStudyIdInfo": {"id": f"SYN-{seed}-{i}"}, **topic["ident"]},
            "statusModule": {"overallStatus": status, **dates},
            "sponsorCollaboratorsModule": {"leadSponsor": sponsor} if sponsor else {},
            "descriptionModule": _drop_none({"briefSummary": topic["brief_summary"],
                                             "detailedDescription": description}),
            "conditionsModule": topic["conditions"],
            "designModule": {**topic["design"],
                             **({"enrollmentInfo": _drop_none({"count": count, "type": count_type})}
                                if count is not None else {})},
            "armsInterventionsModule": topic["arms"],
            "outcomesModule": topic["outcomes"],
            "contactsLocationsModule": {"locations": sites} if sites else {},
        }
        if topic["eligibility"]:
            protocol["eligibilityModule"] = topic["eligibility"]
        yield {"protocolSection": _drop_none(protocol), "derivedSection": topic["derived"], "hasResults": False}


def write_corpus(pool: Pool, n: int, out: Path, *, seed: int = 0, shard_size: int = SHARD_SIZE,
                 compresslevel: int = 1, progress=None) -> dict:
    """Write n studies as JSON Lines gzip shards (studies-00000.jsonl.gz, ...) plus MANIFEST (JSON)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("studies-*.jsonl.gz"), out / MANIFEST]:
        old.unlink(missing_ok=True)
    shards, raw_bytes = [], 0
    studies = generate_studies(pool, n, seed)
    for index in itertools.count():
        chunk = list(itertools.islice(studies, shard_size))
        if not chunk:
            break
        path = out / f"studies-{index:05d}.jsonl.gz"
        # mtime=0: the same seed gives byte-identical files
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel,
                                                    mtime=0) as f:
            for study in chunk:
                line = orjson.dumps(study) + b"\n"
                raw_bytes += len(line)
                f.write(line)
        shards.append(path.name)
        if progress:
            progress(len(chunk))
    manifest = {"n": n, "seed": seed, "format": "ClinicalTrials.gov API v2 studies, JSON Lines, gzip",
                "shards": shards, "uncompressed_bytes": raw_bytes, "pool_trials": pool.size,
                "pool_digest": pool.digest(), "sources": pool.sources,
                "status_weights": {s: round(w, 4) for s, w in pool.status_weights.items()}}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(directory: Path) -> dict | None:
    path = Path(directory) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def corpus_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("studies-*.jsonl.gz"))
