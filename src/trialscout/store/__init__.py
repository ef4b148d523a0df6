"""The embedded store: SQLite with an FTS5 index, written by ingest, read by every later stage."""

from .db import StoreError, default_path, open_store
from .reader import count_trials, get_trial, sponsor_summary, stats
from .search import Filters, Hit, NearestSite, SearchResult, search
from .writer import IngestSummary, ingest

__all__ = ["Filters", "Hit", "IngestSummary", "NearestSite", "SearchResult", "StoreError", "count_trials",
           "default_path", "get_trial", "ingest", "open_store", "search", "sponsor_summary", "stats"]
