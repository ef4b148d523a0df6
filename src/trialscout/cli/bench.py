"""`trialscout bench generate` and `trialscout bench run`: the registry-scale benchmarks (docs/scale.md).

`generate` builds a synthetic registry in API v2 JSON from the real samples; `run` calls the benchmark
suite that lives in the source checkout's bench/scale/ (it is not installed with the package).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .app import UserError, print_json, user_errors

err = Console(stderr=True, highlight=False)

bench_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="Registry-scale benchmarks: a synthetic ClinicalTrials.gov and the figures on it.")


def _suite() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "bench" / "scale" / "run.py"
        if candidate.exists():
            return candidate
    raise UserError("bench/scale/run.py not found: `bench run` needs trialscout's source checkout")


@bench_app.command("generate")
@user_errors
def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for studies-*.jsonl.gz and MANIFEST")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many studies")] = 500_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files")] = 1,
    source: Annotated[Optional[list[Path]], typer.Option(
        "--source", help="Real records to resample (repeatable) [default: the ../shared ctgov samples]")] = None,
    open_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of RECRUITING + NOT_YET_RECRUITING")] = 0.12,
    shard_size: Annotated[int, typer.Option(min=1, help="Studies per .jsonl.gz file")] = 50_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON")] = False,
) -> None:
    """Build a registry-sized corpus (API v2 JSON Lines, gzip) by resampling real records."""
    from trialscout.synth import load_pool, write_corpus
    from trialscout.synth.generate import DEFAULT_SOURCES

    sources = source or list(DEFAULT_SOURCES)
    missing = [str(p) for p in sources if not Path(p).exists()]
    if missing:
        raise UserError(f"source not found: {', '.join(missing)}")
    pool = load_pool(sources, open_share=open_share)
    manifest = write_corpus(pool, n, out, seed=seed, shard_size=shard_size)
    if as_json:
        print_json(manifest)
    else:
        err.print(f"Wrote {n:,} studies ({manifest['uncompressed_bytes'] / 1e6:,.0f} MB of JSON) in "
                  f"{len(manifest['shards'])} file(s) to {out}, resampled from {pool.size:,} real trials.")


@bench_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@user_errors
def run_command(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", min=1, help="Corpus size")] = 500_000,
    only: Annotated[Optional[str], typer.Option(help="Comma-separated: ingest,search,match,batch,size")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Results JSON [default: bench/results/scale.json]")] = None,
    work: Annotated[Path, typer.Option(help="Where the corpus and stores go")] = Path("/tmp/scale"),
    seed: Annotated[int, typer.Option(help="Corpus seed")] = 1,
) -> None:
    """Run the scale benchmarks; extra options (--match-patients, --batch-max-seconds, ...) go to bench/scale/run.py."""
    path = _suite()
    spec = importlib.util.spec_from_file_location("trialscout_bench_scale_run", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    argv = ["--n", str(n), "--work", str(work), "--seed", str(seed)]
    if only:
        argv += ["--only", only]
    if out:
        argv += ["--out", str(out)]
    module.main(argv + list(ctx.args))
