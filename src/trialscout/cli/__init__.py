"""Command-line interface: parses options, calls the stages, prints."""

from . import browse, ingest  # noqa: F401  (each module registers its commands on the app)
from .app import app, main

__all__ = ["app", "main"]
