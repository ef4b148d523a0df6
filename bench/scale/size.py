"""Benchmark 5, store size on disk, per table and index (SQLite dbstat), beside the corpus size."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def run(db: Path, corpus: Path | None = None) -> dict:
    db = Path(db)
    files = {p.name: p.stat().st_size for p in db.parent.glob(db.name + "*")}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    by_object: dict[str, int] = {}
    try:
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"):
            by_object[name] = size
    except sqlite3.OperationalError:
        pass  # SQLite built without dbstat
    groups = {"trials (records)": 0, "full-text index": 0, "facets": 0, "sites + R*Tree": 0,
              "parsed criteria": 0, "aliases": 0, "other": 0}
    for name, size in by_object.items():
        key = ("full-text index" if name.startswith("trials_fts") else "sites + R*Tree" if name.startswith("sites")
               else "facets" if name.startswith("facets") else "parsed criteria" if "parsed_criteria" in name
               else "aliases" if name.startswith("aliases") else "trials (records)" if name.startswith(("trials", "sqlite_autoindex_trials"))
               else "other")
        groups[key] += size
    out = {"trials": n, "files_bytes": files, "total_mb": round(sum(files.values()) / 1e6, 1),
           "bytes_per_trial": round(sum(files.values()) / max(1, n)),
           "by_part_mb": {k: round(v / 1e6, 1) for k, v in groups.items() if v}}
    if corpus:
        from trialscout.synth.generate import read_manifest
        manifest = read_manifest(corpus)
        gz = sum(p.stat().st_size for p in Path(corpus).glob("studies-*.jsonl.gz"))
        out["corpus_json_mb"] = round(manifest["uncompressed_bytes"] / 1e6, 1)
        out["corpus_gzip_mb"] = round(gz / 1e6, 1)
    return out


if __name__ == "__main__":
    import sys
    print(json.dumps(run(Path(sys.argv[1])), indent=2))
