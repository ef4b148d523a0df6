"""Load check for the web app: requests per second on the demo corpus, with no errors allowed.

Starts `trialscout serve` on a demo store, drives it with wrk (Debian's package; a C load generator,
so the client steals little CPU from the server on a 2-core machine) and records requests/s, latency
percentiles and error counts per page into bench/results/web_load.json. Target (issue 5): search and
trial pages sustain at least 200 requests/s with no errors.

    python bench/web_load.py [--db demo.db] [--workers 2] [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "web_load.json"
LUA = """
paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""
FIXED = {
    "search page (dermatomyositis, near Cleveland, 500 mi)":
        "/search?q=dermatomyositis&near=Cleveland%2C+OH&within=500mi",
    "search page (cancer, recruiting)": "/search?q=cancer&status=recruiting",
    "trial page (NCT07012057)": "/trials/NCT07012057",
    "trial page (NCT02513394, with results)": "/trials/NCT02513394",
    "API search (myositis)": "/api/v1/search?q=myositis",
    "API trial (NCT07012057)": "/api/v1/trials/NCT07012057",
}
TARGET_RPS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def varied_paths(db: Path, n: int) -> dict[str, list[str]]:
    """Distinct URLs a crowd would ask for: n trial pages and n searches built from the store's own
    conditions, half of them with a status filter or a place."""
    import sqlite3
    from urllib.parse import quote_plus

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM trials ORDER BY random() LIMIT ?", (n,))]
    conditions = (r[0].split("\n")[0] for r in conn.execute(
        "SELECT conditions FROM trials_fts WHERE conditions != '' ORDER BY rowid LIMIT ?", (n * 3,)))
    words = list(dict.fromkeys(c for c in conditions if c))[:n]
    extras = ["", "&status=recruiting", "&near=Cleveland%2C+OH", "&phase=phase2"]
    searches = [f"/search?q={quote_plus(w)}{extras[i % len(extras)]}" for i, w in enumerate(words)]
    return {"trial": [f"/trials/{i}" for i in ids], "search": searches}


def cold_latency(base: str, paths: list[str]) -> dict:
    """Each URL once, right after start-up: what the first visitor of a page waits (nothing cached)."""
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths:
            t = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"pages": len(times), "p50_ms": round(times[len(times) // 2], 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "max_ms": round(times[-1], 1)}


def run_wrk(url: str, seconds: int, connections: int, paths: Path | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    env = dict(os.environ)
    if paths is not None:
        script = paths.with_suffix(".lua")
        script.write_text(LUA)
        cmd[1:1] = ["-s", str(script)]
        env["WRK_PATHS"] = str(paths)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    pct = {p: _seconds(v) * 1000 for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"requests_per_s": rps, "requests": total, "errors": errors,
            "latency_ms": {"p50": pct.get("50"), "p90": pct.get("90"), "p99": pct.get("99")}}


def _show(name: str, r: dict) -> None:
    print(f"{name:55s} {r['requests_per_s']:8.1f} req/s  p50 {r['latency_ms']['p50']:6.1f} ms  "
          f"p99 {r['latency_ms']['p99']:7.1f} ms  errors {r['errors']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="store to serve (default: a fresh demo store)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--distinct", type=int, default=200, help="distinct trial and search URLs in rotation")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    trialscout = [sys.executable, "-m", "trialscout.cli"]
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "demo.db"
    if args.db is None:
        subprocess.run([*trialscout, "demo", "--db", str(db)], check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*trialscout, "serve", "--db", str(db), "--port", str(port),
                               "--workers", str(args.workers)], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(base + "/api/v1/stats", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        results = {}
        varied = varied_paths(db, args.distinct)
        for kind, paths in varied.items():
            cold = cold_latency(base, paths)
            print(f"cold {kind} pages ({cold['pages']} distinct, first request each): p50 {cold['p50_ms']} ms, "
                  f"p95 {cold['p95_ms']} ms")
            listing = Path(tmp.name) / f"{kind}.txt"
            listing.write_text("\n".join(paths) + "\n")
            name = f"{kind} pages, {len(paths)} distinct URLs in rotation"
            results[name] = {"cold": cold, **run_wrk(base + "/", args.seconds, args.connections, listing)}
            _show(name, results[name])
        for name, path in FIXED.items():
            httpx.get(base + path, timeout=60).raise_for_status()
            results[name] = {"path": path, **run_wrk(base + path, args.seconds, args.connections)}
            _show(name, results[name])
    finally:
        server.terminate()
        server.wait(timeout=10)
        tmp.cleanup()
    pages = [r for n, r in results.items() if not n.startswith("API")]
    ok = all(r["requests_per_s"] >= TARGET_RPS and r["errors"] == 0 for r in pages)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "settings": {"workers": args.workers, "connections": args.connections, "seconds": args.seconds,
                           "distinct_urls": args.distinct,
                           "store": "demo corpus (1,075 trials)" if args.db is None else str(args.db)},
              "target": f">= {TARGET_RPS} requests/s on search and trial pages, no errors",
              "target_met": ok, "pages": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"target {'met' if ok else 'NOT met'}; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
