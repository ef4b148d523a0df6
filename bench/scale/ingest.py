"""Benchmark 1, ingest: records/s end to end (read, map, store, index, parse criteria) and peak memory.

    .venv/bin/python bench/scale/ingest.py CORPUS_DIR DB [--workers 2]

The measured part runs in a child process (the same calls as `trialscout ingest DIR`: read_paths ->
ingest -> parse_pending), so its peak RSS is its own. Reference in the same run: reading and parsing
the same gzip JSON bytes with orjson and nothing else, the floor for any ingester.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

from trialscout.synth.generate import corpus_files

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, ratio  # noqa: E402


def parse_only(corpus: Path) -> dict:
    """The floor: decompress and orjson-parse every record, keep nothing."""
    n = 0
    with Timer() as t:
        for path in corpus_files(corpus):
            with gzip.open(path, "rb") as f:
                for line in f:
                    if line.strip():
                        orjson.loads(line)
                        n += 1
    return {"records": n, "wall_seconds": round(t.wall, 3), "cpu_seconds": round(t.cpu, 3), "_wall": t.wall,
            "records_per_second": round(n / t.wall)}


def child(corpus: Path, db: Path, workers: int, batch_size: int) -> dict:
    """Runs in its own process: the ingest as `trialscout ingest` does it."""
    from trialscout.criteria import parse_pending
    from trialscout.sources import read_paths
    from trialscout.store import ingest, open_store

    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    start = time.perf_counter()
    conn = open_store(db)
    with Timer() as store_t:
        summary = ingest(conn, read_paths(corpus_files(corpus)), batch_size=batch_size)
    with Timer() as parse_t:
        parsed = parse_pending(conn, workers=workers)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"records": summary.inserted + summary.updated + summary.unchanged, "skipped": len(summary.skipped),
            "parsed": parsed, "wall_seconds": round(total, 2),
            "read_map_store_index_wall_seconds": round(store_t.wall, 2),
            "read_map_store_index_cpu_seconds": round(store_t.cpu, 2),
            "parse_criteria_wall_seconds": round(parse_t.wall, 2),
            "parse_criteria_cpu_seconds_main": round(parse_t.cpu, 2),
            "cpu_seconds_all_processes": round(usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "peak_rss_mb_parse_workers": round(kids.ru_maxrss / 1024, 1) if workers > 1 else None}


def run(corpus: Path, db: Path, *, workers: int = 2, batch_size: int = 2000) -> dict:
    here = Path(__file__).resolve()
    proc = subprocess.run([sys.executable, str(here), "--child", str(corpus), str(db), str(workers), str(batch_size)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"ingest child failed:\n{proc.stderr[-4000:]}")
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    floor = parse_only(corpus)
    floor_wall = floor.pop("_wall")  # unrounded: a smoke run's floor rounds to nothing
    n = measured["records"]
    return {
        "command": f"read_paths -> ingest(batch_size={batch_size}) -> parse_pending(workers={workers}) "
                   f"(as `trialscout ingest {corpus}`)",
        "records": n, "records_per_second": round(n / measured["wall_seconds"]),
        "peak_memory_mb": max(measured["peak_rss_mb"], measured.get("peak_rss_mb_parse_workers") or 0),
        **measured,
        "reference_parse_only_orjson": floor,
        "ratio_to_parse_only": ratio(measured["wall_seconds"], floor_wall),
        "targets": {"records_per_second >= 2000": n / measured["wall_seconds"] >= 2000,
                    "peak_memory < 2 GB": measured["peak_rss_mb"] < 2048,
                    "within 4x of parse-only": measured["wall_seconds"] <= 4 * floor_wall},
        "db": str(db),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        print(json.dumps(child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))))
    else:
        workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 2
        print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]), workers=workers), indent=2))
