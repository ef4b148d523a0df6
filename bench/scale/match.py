"""Benchmark 3, match: one patient against every RECRUITING or NOT_YET_RECRUITING trial, criteria
already parsed; p50/p95 end-to-end latency over 20 varied synthetic patients.

    .venv/bin/python bench/scale/match.py DB [--patients 20] [--max-seconds 600]

Start-up (timed apart): read the open trials' parsed criteria from the store and decode them once, load
pint's unit registry, and gc.freeze() what was loaded, as a server holding the criteria would (without
the freeze every full garbage collection walks the decoded criteria of every open trial: a quarter of
the time, and most of the spread between p50 and p95). Per patient: match_trials, the function
match_patient ends in (the same PatientIndex, evaluation, full per-criterion results and ranking; the
relevance scores are 0). What match_patient does besides is read and decode each candidate's criteria
from the store (criteria_for) for every request; that cost is measured apart, per trial
(criteria_for_us_per_trial), and is not in the latency. When --max-seconds runs out first, the figures
are over the patients finished, and the result says so.
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, ms, peak_rss_mb, percentiles  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
OPEN = ("RECRUITING", "NOT_YET_RECRUITING")


def load_open(conn) -> list[tuple]:
    from trialscout.criteria import parse_pending
    from trialscout.criteria.stored import _decode
    from trialscout.criteria.units import registry

    parse_pending(conn)  # no-op when ingest parsed them
    rows = conn.execute(
        "SELECT t.id, t.title, p.data FROM trials t JOIN parsed_criteria p ON p.trial = t.rowid "
        "WHERE t.rowid IN (SELECT trial FROM facets WHERE facet = 'status' AND value IN (?, ?)) ORDER BY t.rowid",
        OPEN).fetchall()
    registry()  # pint's unit registry (~0.5 s, once per process), as the web app's warm-up loads it
    return [(ident, title, _decode(blob)) for ident, title, blob in rows]


def match_all(trials: list[tuple], patient) -> list:
    """What match_patient does once it has the candidates' criteria: match_trials, scores 0."""
    from trialscout.match.rank import match_trials

    return match_trials(((ident, title, 0.0, criteria) for ident, title, criteria in trials), patient, AS_OF)


def criteria_for_us(conn, ids: list[str]) -> float:
    """What match_patient adds per candidate: reading and decoding its criteria (criteria_for), best of 3."""
    from trialscout.criteria import criteria_for

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for ident in ids:
            criteria_for(conn, ident)
        best = min(best, time.perf_counter() - start)
    return round(1e6 * best / max(1, len(ids)), 1)


def run(db: Path, *, patients: int = 20, max_seconds: float = 600, seed: int = 7) -> dict:
    from trialscout.store import open_store
    from trialscout.synth import synthetic_patients

    conn = open_store(db)
    total = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    with Timer() as startup:
        trials = load_open(conn)
        gc.freeze()
    decode_us = criteria_for_us(conn, [ident for ident, _, _ in trials[:200]])
    people = synthetic_patients(patients, seed)
    latencies, verdicts = [], {"eligible": 0, "possibly_eligible": 0, "ineligible": 0}
    began = time.perf_counter()
    for p in people:
        start = time.perf_counter()
        found = match_all(trials, p)
        latencies.append(time.perf_counter() - start)
        for m in found:
            verdicts[m.verdict] += 1
        del found  # as a server drops a response once sent: the next patient's collections don't walk it
        if time.perf_counter() - began > max_seconds:
            break
    pct = percentiles(latencies, (50, 95))
    per_trial_us = round(1e6 * sum(latencies) / max(1, len(latencies) * len(trials)), 1)
    return {"store_trials": total, "open_trials": len(trials),
            "open_share": round(len(trials) / max(1, total), 3),
            "startup_seconds": round(startup.wall, 2), "rss_after_startup_mb": peak_rss_mb(),
            "patients_requested": patients, "patients_measured": len(latencies),
            "truncated_by_time_budget": len(latencies) < patients,
            "latency_ms": {k: ms(v) for k, v in pct.items()}, "per_trial_us": per_trial_us,
            "criteria_for_us_per_trial": decode_us,
            "verdicts": verdicts,
            "target_p95_under_1s": bool(pct) and pct["p95"] < 1.0}


if __name__ == "__main__":
    import json
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
