"""Command-line interface: parses options, calls the stages, prints."""

from . import browse, criteria, ingest  # noqa: F401  (each module registers its commands on the app)
from .app import app, main
from .measure import measure_app

app.add_typer(measure_app, name="measure")

__all__ = ["app", "main"]
