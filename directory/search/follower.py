"""A node's indexer: keeps this machine's index in step with the database's outbox.

`flask --app wsgi directory indexer --follow` runs one per node beside the app workers. It uses the
same catch-up the app runs after each write and before each search (index/following.py), so the two never
conflict: whoever holds the node's catch-up lock applies the rows, the other skips. Polling is a
`SELECT max(id)` on the outbox's primary key every 200 ms; searches catch up on their own anyway,
so the poll only bounds how stale an index can get on a node that takes no searches.

Killing it at any instant (kill -9 included) is safe: each batch is a Whoosh commit (atomic) followed
by the progress file (atomic rename); a kill between them replays that batch, which is harmless.
"""

import contextlib
import logging
import threading
import time

import sqlalchemy as sa

from directory.extensions import db
from directory.search.index import IndexUnavailable
from directory.search.index.files import Progress
from directory.search.node import SearchNode

LOG = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 5.0
# How often the loop asks whether the audit log's hourly checkpoint is due (one indexed query).
CHECKPOINT_POLL_SECONDS = 60.0


class Follower:
    def __init__(self, search: SearchNode, interval: float = 0.2, stop: threading.Event | None = None):
        self.search = search
        self.store = search.store
        self.interval = interval
        self.stop = stop or threading.Event()
        self.failures = 0
        self.checkpoint_polled = float("-inf")

    def run(self, follow: bool) -> int:
        """Catch up once, or (follow) until stopped. Returns the rows applied."""
        total = 0
        while True:
            applied = self.step()
            total += applied
            if not follow or self.stop.is_set():
                return total
            self.stop.wait(self._delay())

    def step(self) -> int:
        """One round: rebuild a missing or unreadable index, then apply what the outbox has more."""
        try:
            if self.store.current() is None:
                self._rebuild("missing")
            applied = 0
            if self.store.behind():
                applied = self.store.catch_up(on_batch=self._log_batch) or 0
            self._checkpoint_if_due()
            self._recovered()
            return applied
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            self._failed("search.indexer.database_unreachable", exc)
        except IndexUnavailable as exc:
            self._failed("search.indexer.index_unavailable", exc)
            self._rebuild_quietly("unreadable")
        except Exception as exc:  # noqa: BLE001 - a damaged index fails in many ways
            self._failed("search.indexer.catch_up_failed", exc)
            if not self.search.has_readable_index():
                self._rebuild_quietly("unreadable")
        finally:
            # Hand the connection back between rounds: no transaction stays open while we sleep,
            # and a database restart costs one failed round, not a stuck session.
            _release_session()
        return 0

    def _checkpoint_if_due(self) -> None:
        """The audit log's hourly signed checkpoint, by whichever node's loop finds it due first."""
        if time.monotonic() - self.checkpoint_polled < CHECKPOINT_POLL_SECONDS:
            return
        self.checkpoint_polled = time.monotonic()
        from directory.credentials import checkpoints

        made = checkpoints.publish_if_due()
        if made is not None:
            LOG.info(
                "audit.checkpoint",
                extra={
                    "event": "audit.checkpoint",
                    "events": made.event_count,
                    "last_event_id": made.last_event_id,
                },
            )

    def _rebuild(self, why: str) -> None:
        with self.store.exclusive("rebuild", wait=True):
            # Another process (an app worker, a reindex) may have rebuilt it while we waited.
            if self.search.has_readable_index():
                return
            summary = self.store.rebuild()
        LOG.info(
            "search.indexer.rebuilt",
            extra={
                "event": "search.indexer.rebuilt",
                "reason": why,
                "documents": summary["documents"],
                "seconds": round(summary["seconds"], 3),
                "folder": summary["folder"],
            },
        )

    def _rebuild_quietly(self, why: str) -> None:
        try:
            self._rebuild(why)
        except Exception as exc:  # noqa: BLE001 - logged; the next round tries again
            self._failed("search.indexer.rebuild_failed", exc)
        finally:
            _release_session()

    def _log_batch(self, rows: int, practitioners: int, state: Progress, seconds: float) -> None:
        LOG.info(
            "search.indexer.batch",
            extra={
                "event": "search.indexer.batch",
                "rows": rows,
                "practitioners": practitioners,
                "applied_id": state["applied"],
                "gaps": len(state["gaps"]),
                "seconds": round(seconds, 4),
            },
        )

    def _failed(self, event: str, exc: Exception) -> None:
        self.failures += 1
        # The class and the first line only: a driver's message names host and port, never a password,
        # but a traceback per poll during an outage would drown the log.
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        LOG.warning(
            event,
            extra={"event": event, "error": type(exc).__name__, "detail": message, "failures": self.failures},
        )

    def _recovered(self) -> None:
        if self.failures:
            LOG.info("search.indexer.recovered", extra={"event": "search.indexer.recovered"})
        self.failures = 0

    def _delay(self) -> float:
        if not self.failures:
            return self.interval
        return min(MAX_BACKOFF_SECONDS, self.interval * 2.0 ** min(self.failures, 10))


def _release_session() -> None:
    # A dead connection cannot even roll back; the pool drops it and the next round reconnects.
    with contextlib.suppress(Exception):
        db.session.remove()
