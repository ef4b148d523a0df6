"""Benchmark 3, match: one patient against every RECRUITING or NOT_YET_RECRUITING trial, criteria
already parsed; p50/p95 end-to-end latency over 20 varied synthetic patients.

    .venv/bin/python bench/scale/match.py DB [--patients 20] [--max-seconds 600]

Start-up (timed apart): read the open trials' parsed criteria from the store and decode them once, and
load pint's unit registry, as a server would. Per patient: match_criteria against every open trial and
rank the verdicts (the same evaluation and order as match_patient). When --max-seconds runs out first,
the figures are over the patients finished, and the result says so.
"""

from __future__ import annotations

import datetime as dt
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
    from trialscout.match import match_criteria
    from trialscout.match.rank import rank_key

    matches = [match_criteria(ident, criteria, patient, AS_OF, title) for ident, title, criteria in trials]
    matches.sort(key=rank_key)
    return matches


def run(db: Path, *, patients: int = 20, max_seconds: float = 600, seed: int = 7) -> dict:
    from trialscout.store import open_store
    from trialscout.synth import synthetic_patients

    conn = open_store(db)
    total = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    with Timer() as startup:
        trials = load_open(conn)
    people = synthetic_patients(patients, seed)
    latencies, verdicts = [], {"eligible": 0, "possibly_eligible": 0, "ineligible": 0}
    began = time.perf_counter()
    for p in people:
        start = time.perf_counter()
        found = match_all(trials, p)
        latencies.append(time.perf_counter() - start)
        for m in found:
            verdicts[m.verdict] += 1
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
            "verdicts": verdicts,
            "target_p95_under_1s": bool(pct) and pct["p95"] < 1.0}


if __name__ == "__main__":
    import json
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
