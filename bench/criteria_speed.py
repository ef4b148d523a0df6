"""Criteria parsing speed on one core (issue 3 target: >= 2,000 criteria/s after loading).

    .venv/bin/python bench/criteria_speed.py [FILE ...]   (default: the ../shared API v2 and XML samples)

Loads the lexicon and spaCy/ConText with one small parse, then times one full pass over every
eligibility text. Repeated criterion texts are parsed once (the engine caches by text), so the figures
are given both per criterion and per distinct criterion (the pure parsing rate). Reference in the same run: the splitter alone over the same texts (the floor any
parser pays). Prints the figures and writes them to bench/results/criteria_speed.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from trialscout.criteria import parse_criteria, split_criteria  # noqa: E402
from trialscout.criteria.parse import _parse_text  # noqa: E402
from trialscout.sources import RecordError, read_paths  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT.parent / "shared/data/ctgov/ctg-studies-sample.json",
           ROOT.parent / "shared/data/ctgov/AllPublicXML-sample.zip"]


def timed(fn, texts) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = sum(len(fn(t)) for t in texts)
    return n, time.perf_counter() - wall, time.process_time() - cpu


def main(paths: list[Path]) -> dict:
    texts = [t.eligibility.criteria for t in read_paths(paths)
             if not isinstance(t, RecordError) and t.eligibility and t.eligibility.criteria]
    load = time.perf_counter()
    parse_criteria("Platelets >= 100,000/mm3; no history of malignancy within 5 years")
    load = time.perf_counter() - load

    def split_all(text: str) -> list:
        out, todo = [], list(split_criteria(text))
        while todo:  # count children too, as parse_criteria does
            item = todo.pop()
            out.append(item)
            todo.extend(item.children)
        return out

    n_split, split_wall, split_cpu = timed(split_all, texts)
    _parse_text.cache_clear()  # every distinct text parsed once, as a fresh process would
    n, wall, cpu = timed(parse_criteria, texts)
    assert n == n_split, (n, n_split)
    distinct = _parse_text.cache_info().misses
    result = {
        "inputs": [str(p) for p in paths], "trials": len(texts), "criteria": n,
        "load_seconds": round(load, 2),
        "parse_wall_seconds": round(wall, 2), "parse_cpu_seconds": round(cpu, 2),
        "distinct_criteria": distinct,
        "criteria_per_second_wall": round(n / wall), "criteria_per_second_cpu": round(n / cpu),
        "distinct_criteria_per_second_cpu": round(distinct / cpu),
        "reference_split_only_per_second_cpu": round(n / split_cpu),
        "parse_vs_split_only": round(cpu / split_cpu, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    return result


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or DEFAULT
    result = main(paths)
    for key, value in result.items():
        print(f"{key:40s} {value}")
    out = ROOT / "bench" / "results" / "criteria_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
