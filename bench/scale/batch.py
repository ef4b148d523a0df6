"""Benchmark 4, batch screening: patients/s screening synthetic patients against 100 open trials,
using every core (one forked worker per core, each with the 100 trials' criteria decoded once).

    .venv/bin/python bench/scale/batch.py DB [--patients 10000] [--max-seconds 300]

The same run on one worker, over a quarter of the time budget, gives the parallel speed-up.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, ratio  # noqa: E402
from match import AS_OF, OPEN  # noqa: E402

_TRIALS: list = []
_PEOPLE: list = []


def pick_trials(conn, k: int = 100) -> list[tuple]:
    from trialscout.criteria.stored import _decode

    rows = conn.execute(
        "SELECT t.id, t.title, p.data FROM trials t JOIN parsed_criteria p ON p.trial = t.rowid "
        "WHERE t.rowid IN (SELECT trial FROM facets WHERE facet = 'status' AND value IN (?, ?)) "
        "AND length(p.data) > 100 ORDER BY t.rowid", OPEN).fetchall()
    step = max(1, len(rows) // k)
    return [(i, t, _decode(b)) for i, t, b in rows[::step][:k]]


def _screen(span: tuple[int, int]) -> int:
    from trialscout.match import match_criteria

    eligible_or_possible = 0
    for p in _PEOPLE[span[0]:span[1]]:
        for ident, title, criteria in _TRIALS:
            if match_criteria(ident, criteria, p, AS_OF, title).verdict != "ineligible":
                eligible_or_possible += 1
    return eligible_or_possible


def _timed(workers: int, n: int, budget: float, chunk: int = 25) -> tuple[int, float]:
    spans = [(i, min(n, i + chunk)) for i in range(0, n, chunk)]
    done, start = 0, time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        for span, _ in zip(spans, pool.imap(_screen, spans)):
            done += span[1] - span[0]
            if time.perf_counter() - start > budget:
                pool.terminate()
                break
    return done, time.perf_counter() - start


def run(db: Path, *, patients: int = 10_000, max_seconds: float = 300, seed: int = 11) -> dict:
    from trialscout.store import open_store
    from trialscout.synth import synthetic_patients

    global _TRIALS, _PEOPLE
    conn = open_store(db)
    with Timer() as startup:
        _TRIALS = pick_trials(conn)
        _PEOPLE = synthetic_patients(patients, seed)
    workers = os.cpu_count() or 1
    done, wall = _timed(workers, patients, max_seconds)
    one_done, one_wall = _timed(1, patients, max_seconds / 4)
    rate, one_rate = done / wall, one_done / one_wall
    return {"trials": len(_TRIALS), "patients_requested": patients, "patients_screened": done,
            "truncated_by_time_budget": done < patients, "workers": workers,
            "startup_seconds": round(startup.wall, 2), "wall_seconds": round(wall, 1),
            "patients_per_second": round(rate, 1), "trial_checks_per_second": round(rate * len(_TRIALS)),
            "one_worker_patients_per_second": round(one_rate, 1),
            "parallel_speedup": ratio(rate, one_rate),
            "projected_seconds_for_all": round(patients / rate, 1)}


if __name__ == "__main__":
    import json
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
