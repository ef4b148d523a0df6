"""Command-line interface: parses options, calls the stages, prints."""

from . import browse, coverage, criteria, eval_match, eval_trec, ingest, match, serve  # noqa: F401  (each module registers its commands)
from .app import app, main
from .bench import bench_app
from .eval import eval_app
from .measure import measure_app

app.add_typer(measure_app, name="measure")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")

__all__ = ["app", "main"]
