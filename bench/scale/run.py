"""Run the registry-scale benchmarks (docs/scale.md) and record them in bench/results/scale.json.

    .venv/bin/python bench/scale/run.py [--n 500000] [--seed 1] [--only ingest,search,match,batch,size]
                                        [--work /tmp/scale] [--out bench/results/scale.json]
    trialscout bench run ...            (the same)

Generates the synthetic corpus (API v2 JSON Lines) under --work when it is not there yet, ingests it
into a fresh store, then runs each benchmark on that store. The results file keeps one entry per n, so
a small run never overwrites the full-size figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import common  # noqa: E402

ALL = ("ingest", "search", "match", "batch", "size")
MATCH_10K = 10_000


def corpus(work: Path, n: int, seed: int, sources: list[Path] | None, log) -> tuple[Path, dict | None]:
    from trialscout.synth import load_pool, write_corpus
    from trialscout.synth.generate import DEFAULT_SOURCES, read_manifest

    out = work / f"corpus-{n}-s{seed}"
    m = read_manifest(out)
    if m:
        if m.get("n") == n and m.get("seed") == seed:
            log(f"corpus {out} exists ({n:,} studies)")
            return out, None
    log(f"generating {n:,} studies into {out} ...")
    start = time.perf_counter()
    pool = load_pool(sources or DEFAULT_SOURCES)
    pool_s = time.perf_counter() - start
    m = write_corpus(pool, n, out, seed=seed)
    took = time.perf_counter() - start
    return out, {"n": n, "seed": seed, "pool_trials": pool.size, "pool_load_seconds": round(pool_s, 1),
                 "seconds": round(took, 1), "studies_per_second": round(n / max(took - pool_s, 1e-9)),
                 "uncompressed_mb": round(m["uncompressed_bytes"] / 1e6, 1),
                 "command": f"trialscout bench generate --n {n} --seed {seed} --out {out}"}


def save(out: Path, n: int, result: dict) -> None:
    """Merge this run into the results file (one entry per n; a partial --only run keeps the rest)."""
    saved = json.loads(out.read_text()) if out.exists() else {}
    saved["about"] = "trialscout registry-scale benchmarks; see docs/scale.md. One entry per corpus size n."
    runs = saved.setdefault("runs", {})
    runs[str(n)] = {**runs.get(str(n), {}), **result}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=2) + "\n")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=",".join(ALL))
    ap.add_argument("--work", type=Path, default=Path("/tmp/scale"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    ap.add_argument("--sources", type=Path, nargs="*", default=None)
    ap.add_argument("--workers", type=int, default=2, help="criteria parsing processes during ingest")
    ap.add_argument("--match-patients", type=int, default=20)
    ap.add_argument("--match-max-seconds", type=float, default=600)
    ap.add_argument("--batch-patients", type=int, default=10_000)
    ap.add_argument("--batch-max-seconds", type=float, default=300)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL)}")
    log = (lambda *a: None) if args.quiet else (lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True))
    args.work.mkdir(parents=True, exist_ok=True)

    result: dict = {"n": args.n, "seed": args.seed, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "machine": common.machine(), "command": "trialscout bench run " + " ".join(argv or sys.argv[1:])}
    corpus_dir, generated = corpus(args.work, args.n, args.seed, args.sources, log)
    if generated:
        result["generate"] = generated
        save(args.out, args.n, result)
    db = args.work / f"store-{args.n}-s{args.seed}.db"

    import ingest as ingest_bench
    if "ingest" in only or not db.exists():
        log(f"ingest {corpus_dir} -> {db} ...")
        result["ingest"] = ingest_bench.run(corpus_dir, db, workers=args.workers)
        log(f"ingest: {result['ingest']['records_per_second']} records/s, "
            f"peak {result['ingest']['peak_memory_mb']} MB, {result['ingest']['ratio_to_parse_only']}x parse-only")
        save(args.out, args.n, result)
    if "size" in only:
        import size
        result["size"] = size.run(db, corpus_dir)
        log(f"size: {result['size']['total_mb']} MB")
    if "search" in only:
        import search
        log("search ...")
        result["search"] = search.run(db, n=args.n)
        save(args.out, args.n, result)
        log(f"search: {result['search']['all_ms']} (reference {result['search']['reference_bm25s']['ms']})")
    if "match" in only:
        import match
        log("match ...")
        result["match"] = match.run(db, patients=args.match_patients, max_seconds=args.match_max_seconds)
        save(args.out, args.n, result)
        log(f"match: {result['match']['latency_ms']} over {result['match']['open_trials']} open trials")
        if args.n > MATCH_10K:  # the second issue's figure: every recruiting trial of a 10,000-trial store
            small_corpus, _ = corpus(args.work, MATCH_10K, args.seed, args.sources, log)
            small_db = args.work / f"store-{MATCH_10K}-s{args.seed}.db"
            if not small_db.exists():
                ingest_bench.run(small_corpus, small_db, workers=args.workers)
            result["match_10k_store"] = match.run(small_db, patients=args.match_patients,
                                                  max_seconds=args.match_max_seconds)
        elif args.n == MATCH_10K:
            result["match_10k_store"] = result["match"]
        if "match_10k_store" in result:
            log(f"match (10k store): {result['match_10k_store']['latency_ms']}")
        save(args.out, args.n, result)
    if "batch" in only:
        import batch
        log("batch ...")
        result["batch"] = batch.run(db, patients=args.batch_patients, max_seconds=args.batch_max_seconds)
        log(f"batch: {result['batch']['patients_per_second']} patients/s")

    save(args.out, args.n, result)
    log(f"written to {args.out}")
    return result


if __name__ == "__main__":
    main()
