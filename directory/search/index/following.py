"""Following the outbox: how far behind the live index is, and applying the rows it lacks."""

import time

import sqlalchemy as sa
from whoosh.index import LockError

from directory.extensions import db
from directory.search.index.files import IndexFiles, IndexUnavailable
from directory.search.index.progress import advance, unapplied
from directory.search.index.writing import apply_changes
from directory.search.models import SearchOutbox
from directory.timeutil import now_utc


class Following(IndexFiles):
    def behind(self) -> bool:
        """Cheap: is there any outbox row the live index has not applied?"""
        folder = self.current()
        if folder is None:
            return True
        state = self.progress(folder)
        newest = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
        return newest > state["applied"] or bool(state["gaps"])

    def catch_up(self, batch: int = 5000, on_batch=None) -> int | None:
        """Apply outbox rows the live index lacks. Returns rows applied, or None if another
        process or thread is applying them right now. `on_batch(rows, practitioners, applied, seconds)`
        is called after each batch is committed (the indexer logs it).

        Safe to kill at any instant: the Whoosh commit and the progress file are each replaced
        atomically, the progress after the commit, so a kill between them only replays a batch."""
        # One catch-up at a time per node, without waiting: if busy, the holder applies our rows.
        with self.exclusive("catch-up") as mine:
            if not mine:
                return None
            ix = self.open()
            folder = self.current()
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
                    writer = ix.writer(timeout=0)
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

    def lag(self) -> dict:
        """How far the live index is behind the outbox: rows not applied yet, and the age in seconds of
        the oldest of them (None when there is none). IndexUnavailable when there is no index."""
        folder = self.current()
        if folder is None:
            raise IndexUnavailable("no index has been built yet")
        state = self.progress(folder)
        count, oldest = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(SearchOutbox.created_at)).where(unapplied(state))
        ).one()
        age = None if oldest is None else max(0.0, round((now_utc() - oldest).total_seconds(), 3))
        return {"applied": state["applied"], "pending": count, "oldest_seconds": age}

    def _pending_rows(self, state: dict, batch: int) -> list[tuple[int, int]]:
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(SearchOutbox.id, SearchOutbox.practitioner_id)
                .where(unapplied(state))
                .order_by(SearchOutbox.id)
                .limit(batch)
            )
        ]
