"""This process's search state: the index store, an up-to-date searcher, and the array views.

One per app (app.extensions); the database is the only state shared between processes.
"""

import logging
import threading

from flask import current_app

from directory.search import documents
from directory.search.arrays import IndexView, ViewCache
from directory.search.index import IndexStore, IndexUnavailable

LOG = logging.getLogger(__name__)
EXTENSION = "directory_search"


class SearchNode:
    def __init__(self, data_dir: str, procs: int = 1):
        self.store = IndexStore(data_dir, procs)
        self.views = ViewCache()
        self.analyzer = documents.text_analyzer()
        self._lock = threading.RLock()
        self._folder = None
        self._ix = None
        self._searcher = None

    def searcher(self):
        """A searcher on the live index, refreshed when another process committed or swapped it."""
        with self._lock:
            folder = self.store.current()
            if folder is None or folder != self._folder or self._searcher is None:
                self._close()
                self._ix = self.store.open()
                self._folder = folder
                self._searcher = self._ix.searcher()
            elif not self._searcher.up_to_date():
                self._searcher = self._searcher.refresh()
            return self._searcher

    def view(self) -> IndexView:
        return self.views.view(self.searcher())

    def ensure_ready(self) -> None:
        """Build the index if there is none (or it is unreadable), then apply what it lacks."""
        try:
            if self.store.behind():
                self.store.catch_up()
            self.searcher()
        except IndexUnavailable as exc:
            LOG.warning("search index unavailable (%s); rebuilding", exc)
            with self._lock:
                self._close()
                self.store.rebuild()
            self.store.catch_up()

    def catch_up_quietly(self) -> None:
        """After a commit: apply the new outbox rows now if we can; never fail the request."""
        try:
            self.store.catch_up()
        except IndexUnavailable:
            pass  # the next search rebuilds it
        except Exception:  # noqa: BLE001 - the write is committed; the index is only a cache
            LOG.exception("search catch-up failed; the next search retries")

    def _close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self._searcher = None
        self._ix = None
        self._folder = None


def node() -> SearchNode:
    ext = current_app.extensions
    if EXTENSION not in ext:
        ext[EXTENSION] = SearchNode(current_app.config["DATA_DIR"], current_app.config["SEARCH_INDEX_PROCS"])
    return ext[EXTENSION]
