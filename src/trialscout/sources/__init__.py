"""Readers for every format trials arrive in: API v2 JSON, legacy XML, the live API, pasted pages."""

from .ctgov_api import CtgovClient, StudyQuery, SyncError, base_url_from_env
from .ctgov_json import trial_from_json
from .errors import RecordError
from .page import read_page, trial_from_page
from .readers import Item, read_path, read_paths, read_studies

__all__ = ["CtgovClient", "Item", "RecordError", "StudyQuery", "SyncError", "base_url_from_env", "read_path",
           "read_page", "read_paths", "read_studies", "trial_from_json", "trial_from_page"]
