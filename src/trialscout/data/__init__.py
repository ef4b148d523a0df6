"""Data files that ship with trialscout (the demo corpus)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_DEMO_FILES = ("ctgov-api-studies.json.gz", "seed-trials.json", "allpublicxml-demo.zip")


def demo_corpus() -> list[Path]:
    """The bundled demo corpus files (see data/demo/README.md for what they hold)."""
    folder = resources.files("trialscout.data").joinpath("demo")
    return sorted(Path(str(folder.joinpath(name))) for name in _DEMO_FILES)
