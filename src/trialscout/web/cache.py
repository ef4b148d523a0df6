"""Rendered responses kept in memory, keyed by URL and dropped whenever the store file changes.

The server only reads the store, so a page depends on its URL and the store's contents alone;
an ingest or sync (another process) changes the file's size or time and empties the cache.
Answers to questionnaires, notes and uploads are POSTed and never cached.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path


class ResponseCache:
    def __init__(self, store_path: Path, size: int = 2048) -> None:
        self._files = (Path(store_path), Path(f"{store_path}-wal"))
        self._size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._version: tuple | None = None
        self._lock = threading.Lock()

    def _store_version(self) -> tuple:
        stamp = []
        for f in self._files:
            try:
                st = os.stat(f)
                stamp.append((st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                stamp.append(None)
        return tuple(stamp)

    def get(self, key: str, render: Callable[[], bytes]) -> bytes:
        version = self._store_version()
        with self._lock:
            if version != self._version:
                self._items.clear()
                self._version = version
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        body = render()  # outside the lock: two threads may render the same page once each, harmlessly
        with self._lock:
            self._items[key] = body
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return body
