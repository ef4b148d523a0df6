"""Benchmark 3, match: one patient against every RECRUITING or NOT_YET_RECRUITING trial, criteria
already parsed; p50/p95 end-to-end latency over 20 varied synthetic patients.

    .venv/bin/python bench/scale/match.py DB [--patients 20] [--max-seconds 600]

Start-up (timed apart), as the web app's warm-up does it: decode the open trials' parsed criteria into
memory (criteria.preload_criteria), load pint's unit registry, and gc.freeze() what was loaded (without
the freeze every full garbage collection walks the decoded criteria of every open trial: a quarter of
the time, and most of the spread between p50 and p95). Per patient, what match_patient does after its
search: criteria_for and studied_conditions for each open trial (served from memory), then match_trials (the same
PatientIndex, evaluation, full per-criterion results and ranking; the relevance scores are 0). What a
process that did not preload pays on top, per trial, is measured apart (cold_decode_us_per_trial).
When --max-seconds runs out first, the figures are over the patients finished, and the result says so.
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
    """Start-up, as the web app's warm-up does it: the open trials' parsed criteria decoded into memory
    (criteria.preload_criteria), pint's unit registry (~0.5 s, once per process) loaded."""
    from trialscout.criteria import parse_pending, preload_criteria
    from trialscout.criteria.units import registry

    parse_pending(conn)  # no-op when ingest parsed them
    preload_criteria(conn, OPEN)
    registry()
    return conn.execute(
        "SELECT id, title FROM trials WHERE rowid IN "
        "(SELECT trial FROM facets WHERE facet = 'status' AND value IN (?, ?)) ORDER BY rowid", OPEN).fetchall()


def match_all(conn, trials: list[tuple], patient) -> list:
    """What match_patient does once it has the candidates: each one's criteria from criteria_for (held
    in memory since start-up), then match_trials; relevance scores 0."""
    from trialscout.criteria import criteria_for, studied_conditions
    from trialscout.match.rank import match_trials

    return match_trials(((ident, title, 0.0, criteria_for(conn, ident) or [], studied_conditions(conn, ident))
                         for ident, title in trials), patient, AS_OF)


def cold_decode_us(conn, ids: list[str]) -> float:
    """What a process that did not preload pays per candidate on its first request: reading and
    decoding the stored criteria, best of 3."""
    from trialscout.criteria.stored import _decode

    blobs = [b for (b,) in conn.execute(
        f"SELECT p.data FROM parsed_criteria p JOIN trials t ON t.rowid = p.trial WHERE t.id IN "
        f"({', '.join('?' * len(ids))})", ids)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for blob in blobs:
            _decode(blob)
        best = min(best, time.perf_counter() - start)
    return round(1e6 * best / max(1, len(blobs)), 1)


def run(db: Path, *, patients: int = 20, max_seconds: float = 600, seed: int = 7) -> dict:
    from trialscout.store import open_store
    from trialscout.synth import synthetic_patients

    conn = open_store(db)
    total = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    with Timer() as startup:
        trials = load_open(conn)
        gc.freeze()
    decode_us = cold_decode_us(conn, [ident for ident, _ in trials[:200]])
    people = synthetic_patients(patients, seed)
    latencies, verdicts = [], {"eligible": 0, "possibly_eligible": 0, "ineligible": 0}
    began = time.perf_counter()
    for p in people:
        start = time.perf_counter()
        found = match_all(conn, trials, p)
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
            "cold_decode_us_per_trial": decode_us,
            "verdicts": verdicts,
            "target_p95_under_1s": bool(pct) and pct["p95"] < 1.0}


if __name__ == "__main__":
    import json
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
