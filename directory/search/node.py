"""This process's search state: the index store, an up-to-date searcher, and the array views.

One per app (app.extensions); the database is the only state shared between processes.
"""

import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from whoosh.index import Index
from whoosh.searching import Searcher

from directory.extensions import app_object
from directory.search import documents
from directory.search.arrays import IndexView, ViewCache
from directory.search.index import IndexStore, IndexUnavailable
from directory.search.walks import Generation, Pins

LOG = logging.getLogger(__name__)
EXTENSION = "directory_search"


class SearchNode:
    def __init__(self, data_dir: str, procs: int = 1):
        self.store = IndexStore(data_dir, procs)
        self.views = ViewCache()
        # Generations pinned by walks (walks.py), node-wide beside the index builds.
        self.pins = Pins(
            self.store.root / "walks", lambda folder: self.store.open_at(folder).searcher(), self.views.other
        )
        self.analyzer = documents.text_analyzer()
        self._lock = threading.RLock()
        self._folder: Path | None = None
        self._ix: Index | None = None
        self._searcher: Searcher | None = None
        self._rebuilding: threading.Event | None = None

    def searcher(self) -> Searcher:
        """A searcher on the live index, refreshed when another process committed or swapped it."""
        with self._lock:
            folder = self.store.current()
            if folder is None or folder != self._folder or self._ix is None or self._searcher is None:
                self._close()
                self._ix = self.store.open()
                self._folder = folder
                self._searcher = searcher = self._ix.searcher()
                return searcher
            # Damaged under us (truncated, overwritten): stop before this searcher reads it.
            self.store.check_intact(folder)
            if not self._searcher.up_to_date():
                # Not searcher.refresh(): it reuses the old reader of an unchanged segment, and with
                # it the segment's old deletion marks, so updated documents would show twice.
                # The old searcher is let go, never closed here: with threaded workers another
                # request may still be reading through it, and it is freed when the last one is done.
                self._searcher = None
                self._searcher = searcher = self._ix.searcher()
                return searcher
            return self._searcher

    def view(self) -> IndexView:
        return self.views.view(self.searcher())

    def generation(self) -> Generation:
        """The live generation: its folder, table-of-contents number, segments and view."""
        with self._lock:
            searcher = self.searcher()
            folder = self._folder
        if folder is None:
            raise IndexUnavailable("no index is open")
        reader = searcher.reader()
        segments = tuple(
            r.segment().segment_id() for r, _ in reader.leaf_readers() if r.segment() is not None
        )
        return Generation(folder, reader.generation(), segments, self.views.view(searcher))

    def ready_view(self, wait_seconds: float) -> IndexView | None:
        """The live index, caught up with the outbox; or None while it is being rebuilt (missing,
        deleted or damaged), in which case search answers from the database meanwhile."""
        for attempt in range(2):
            try:
                if self.store.behind():
                    self.store.catch_up()
                return self.views.view(self.searcher())
            except Exception as exc:  # noqa: BLE001 - a damaged index fails in many ways; all mean rebuild
                if attempt:
                    return None
                LOG.warning("search index unavailable (%s); rebuilding it", exc)
                with self._lock:
                    self._close()
                if not self._rebuild_in_background().wait(wait_seconds):
                    return None
        return None

    def rebuild_in_background(self) -> threading.Event:
        """Start a rebuild of this node's index from the database (or join the one running)."""
        return self._rebuild_in_background()

    def _rebuild_in_background(self) -> threading.Event:
        with self._lock:
            if self._rebuilding is None or self._rebuilding.is_set():
                done = threading.Event()
                app = app_object()
                threading.Thread(target=self._rebuild, args=(app, done), daemon=True, name="reindex").start()
                self._rebuilding = done
            return self._rebuilding

    def _rebuild(self, app: Flask, done: threading.Event) -> None:
        try:
            with app.app_context(), self.store.exclusive("rebuild", wait=True):
                # Another process may have rebuilt it while we waited for the lock.
                if not self.has_readable_index():
                    self.store.rebuild()
                self.store.catch_up()
        except Exception:  # noqa: BLE001 - logged; the next search tries again
            LOG.exception("rebuilding the search index failed")
        finally:
            done.set()

    def has_readable_index(self) -> bool:
        return self.store.current() is not None and self._readable()

    def _readable(self) -> bool:
        try:
            with self.store.open().searcher() as searcher:
                ViewCache().view(searcher)
            return True
        except Exception:  # noqa: BLE001
            return False

    def catch_up_quietly(self) -> None:
        """After a commit: apply the new outbox rows now if we can; never fail the request."""
        try:
            self.store.catch_up()
        except IndexUnavailable:
            pass  # the next search rebuilds it
        except Exception:  # noqa: BLE001 - the write is committed; the index is only a cache
            LOG.exception("search catch-up failed; the next search retries")

    def _close(self) -> None:
        # Let go, not closed: a request on another thread may still be reading through this searcher
        # (threaded workers); its files are released when the last reference is dropped.
        self._searcher = None
        self._ix = None
        self._folder = None


def node() -> SearchNode:
    ext = current_app.extensions
    found = ext.get(EXTENSION)
    if not isinstance(found, SearchNode):
        found = ext[EXTENSION] = SearchNode(
            current_app.config["DATA_DIR"], current_app.config["SEARCH_INDEX_PROCS"]
        )
    return found
