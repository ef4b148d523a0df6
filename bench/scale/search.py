"""Benchmark 2, search: latency percentiles for a fixed query set, against an in-memory BM25 reference.

    .venv/bin/python bench/scale/search.py DB

Queries: 40 condition and drug names of 1-4 words, each run bare and with four filter sets (status,
phase, age + sex, recruiting within 100 km of Boston): 200 searches, each timed once after one untimed
warm-up pass (the store's pages are in the OS cache, as on a laptop in use). Reference in the same run:
bm25s over the same trials' text, queried with the same 40 queries (it has no filters, so it is compared
with the bare queries). Up to 100,000 trials the reference indexes all eight fields the store indexes;
above that only the five short ones (title, conditions, interventions, MeSH, keywords), since bm25s over
all the text of 500,000 trials takes ~20 minutes and many GB to build: a lighter, faster reference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, ms, percentiles, ratio  # noqa: E402

QUERIES = [
    "breast cancer", "type 2 diabetes", "metformin", "pembrolizumab", "heart failure", "asthma",
    "rheumatoid arthritis", "non small cell lung cancer", "major depressive disorder", "insulin glargine", "HIV",
    "hepatitis C", "dermatomyositis", "atrial fibrillation", "prostate cancer", "chronic kidney disease",
    "multiple sclerosis", "alzheimer disease", "parkinson disease", "obesity", "hypertension", "stroke",
    "psoriasis", "crohn disease", "schizophrenia", "migraine", "knee osteoarthritis", "acute myeloid leukemia",
    "multiple myeloma", "systemic lupus erythematosus", "adalimumab", "rituximab", "nivolumab", "aspirin",
    "vitamin D", "atorvastatin", "cystic fibrosis", "sickle cell disease", "chronic obstructive pulmonary disease",
    "smoking cessation",
]
_FIELDS = ("title", "conditions", "interventions", "mesh", "keywords", "summary", "description", "criteria")
SHORT_FIELDS = _FIELDS[:5]  # above 100,000 trials: bm25s over all text would take ~20 min and many GB to build


def filter_sets():
    from trialscout.geo import resolve_place
    from trialscout.store import Filters

    boston = resolve_place("Boston, MA")
    return {"none": Filters(), "status": Filters(statuses=("RECRUITING",)),
            "phase": Filters(phases=("PHASE2", "PHASE3")), "age_sex": Filters(age=45, sex="FEMALE"),
            "recruiting_near_boston_100km": Filters(statuses=("RECRUITING", "NOT_YET_RECRUITING"), near=boston,
                                                    within_km=100)}


def store_latencies(db: Path) -> dict:
    from trialscout.store import open_store, search

    conn = open_store(db, readonly=True)
    sets = filter_sets()
    for q in QUERIES:  # warm-up
        search(conn, q, limit=20)
    per_set: dict[str, list[float]] = {name: [] for name in sets}
    totals: dict[str, int] = {}
    for name, f in sets.items():
        for q in QUERIES:
            start = time.perf_counter()
            result = search(conn, q, f, limit=20)
            per_set[name].append(time.perf_counter() - start)
            totals[f"{name}:{q}"] = result.total
    every = [x for v in per_set.values() for x in v]
    return {"searches": len(every),
            "all_ms": {k: ms(v) for k, v in percentiles(every).items()},
            "by_filter_ms": {name: {k: ms(v) for k, v in percentiles(v).items()} for name, v in per_set.items()},
            "bare_latencies": per_set["none"],
            "median_hits_bare": sorted(totals[f"none:{q}"] for q in QUERIES)[len(QUERIES) // 2]}


def reference_latencies(db: Path, fields: tuple[str, ...]) -> dict:
    """bm25s over the same trials' text: build, then time each query (top 20)."""
    import bm25s
    import numpy as np

    from trialscout.store import open_store

    conn = open_store(db, readonly=True)
    with Timer() as load:
        texts = ["\n".join(x or "" for x in row)
                 for row in conn.execute(f"SELECT {', '.join(fields)} FROM trials_fts ORDER BY rowid")]
    with Timer() as build:
        tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        del texts
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        vocab = tokens.vocab
        del tokens
    k = 20
    times = []
    for q in QUERIES * 2:  # first pass warms up
        start = time.perf_counter()
        words = [w for w in bm25s.tokenize([q], stopwords="en", show_progress=False, return_ids=False)[0]]
        ids = [vocab[w] for w in words if w in vocab]
        if ids:
            scores = retriever.get_scores(ids)
            top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
            top[np.argsort(-scores[top])]
        times.append(time.perf_counter() - start)
    times = times[len(QUERIES):]
    return {"library": f"bm25s {bm25s.__version__}", "fields": list(fields),
            "load_text_seconds": round(load.wall, 1), "build_seconds": round(build.wall, 1),
            "latencies": times, "ms": {k_: ms(v) for k_, v in percentiles(times).items()}}


def run(db: Path, *, reference_fields: tuple[str, ...] | None = None, n: int | None = None) -> dict:
    store = store_latencies(db)
    fields = reference_fields or (_FIELDS if (n or 0) <= 100_000 else SHORT_FIELDS)
    ref = reference_latencies(db, fields)
    bare = percentiles(store.pop("bare_latencies"))
    ref_p = percentiles(ref.pop("latencies"))
    p50, p95 = store["all_ms"]["p50"], store["all_ms"]["p95"]
    return {
        "queries": len(QUERIES), "filter_sets": list(filter_sets()), **store,
        "bare_ms": {k: ms(v) for k, v in bare.items()},
        "reference_bm25s": ref,
        "ratio_bare_p50_to_reference_p50": ratio(bare["p50"], ref_p["p50"]),
        "ratio_all_p50_to_reference_p50": ratio(p50, ms(ref_p["p50"])),
        "targets": {"p50 < 20 ms": p50 < 20, "p95 < 100 ms": p95 < 100,
                    "p50 <= 2x reference": p50 <= 2 * ms(ref_p["p50"])},
    }


if __name__ == "__main__":
    import json
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
