"""Following the outbox: how far behind the live index is, and applying the rows it lacks."""

import time
from collections.abc import Callable
from typing import TypedDict

import sqlalchemy as sa
from whoosh.index import LockError

from directory.extensions import db
from directory.search import documents
from directory.search.index.files import IndexFiles, Progress
from directory.search.index.progress import advance, unapplied
from directory.search.index.writing import apply_changes
from directory.search.models import SearchOutbox
from directory.timeutil import now_utc

# on_batch(rows, practitioners, state, seconds): after each batch of a catch-up is committed.
BatchListener = Callable[[int, int, Progress, float], None]


# Asked on every search: a plain statement, built once.
NEWEST_ROW = sa.text("SELECT max(id) FROM search_outbox").columns(sa.column("max", sa.Integer))


class Lag(TypedDict):
    applied: int  # the outbox id the live index has applied up to
    pending: int  # rows not applied yet
    oldest_seconds: float | None  # age of the oldest of them; None when there is none


class Following(IndexFiles):
    def behind(self) -> bool:
        """Cheap: is there any outbox row the live index has not applied?"""
        folder = self.current()
        if folder is None:
            return True
        state = self.progress(folder)
        newest = db.session.scalar(NEWEST_ROW) or 0
        return newest > state["applied"] or bool(state["gaps"])

    def catch_up(self, batch: int = 5000, on_batch: BatchListener | None = None) -> int | None:
        """Apply outbox rows the live index lacks. Returns rows applied, or None if another
        process or thread is applying them right now. `on_batch(rows, practitioners, applied, seconds)`
        is called after each batch is committed (the indexer logs it).

        Safe to kill at any instant: the Whoosh commit and the progress file are each replaced
        atomically, the progress after the commit, so a kill between them only replays a batch."""
        # One catch-up at a time per node, without waiting: if busy, the holder applies our rows.
        with self.exclusive("catch-up") as mine:
            if not mine:
                return None
            # One read of the pointer: the rows go into the index whose progress file records them.
            folder = self.live()
            ix = self.open_at(folder)
            applied = 0
            while True:
                state = self.progress(folder)
                rows = self._pending_rows(state, batch)
                if not rows:
                    if state["gaps"]:
                        self._write_progress(folder, advance(state, []))
                    return applied
                started = time.perf_counter()
                try:
                    writer = ix.writer(timeout=0, codec=documents.codec())
                except LockError:
                    return applied or None
                practitioners = {pid for _, pid in rows}
                apply_changes(writer, practitioners)
                writer.commit()
                state = advance(state, [row_id for row_id, _ in rows])
                self._write_progress(folder, state)
                applied += len(rows)
                if on_batch is not None:
                    on_batch(len(rows), len(practitioners), state, time.perf_counter() - started)
                if len(rows) < batch:
                    return applied

    def lag(self) -> Lag:
        """How far the live index is behind the outbox: rows not applied yet, and the age in seconds of
        the oldest of them (None when there is none). IndexUnavailable when there is no index."""
        state = self.progress(self.live())
        count, oldest = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(SearchOutbox.created_at)).where(unapplied(state))
        ).one()
        age = None if oldest is None else max(0.0, round((now_utc() - oldest).total_seconds(), 3))
        return {"applied": state["applied"], "pending": count, "oldest_seconds": age}

    def _pending_rows(self, state: Progress, batch: int) -> list[tuple[int, int]]:
        return [
            (row_id, pid)
            for row_id, pid in db.session.execute(
                sa.select(SearchOutbox.id, SearchOutbox.practitioner_id)
                .where(unapplied(state))
                .order_by(SearchOutbox.id)
                .limit(batch)
            )
        ]
