"""The Whoosh index of a node: where it lives, how it is rebuilt, and how it follows the outbox.

Layout under DATA_DIR/search/: one folder per build (`ix-<time>`), a `CURRENT` file naming the live
one (swapped with os.replace, so readers see the old or the new index, never half of one), and in
each folder a `progress.json` with the outbox position applied to it. Applying outbox rows is
idempotent (a practitioner's document is rebuilt from the database), so replaying a row is harmless;
skipping one is not, which is why gaps in the outbox ids are remembered (see `_advance`).
"""

import fcntl
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from tqdm import tqdm
from whoosh import index as whoosh_index
from whoosh.index import LockError

from directory.extensions import db
from directory.search import documents
from directory.search.facts import all_ids_in_batches, facts_for
from directory.search.models import SearchOutbox

LOG = logging.getLogger(__name__)
GAP_PATIENCE_SECONDS = 120  # a missing outbox id older than this belonged to a rolled-back transaction
KEEP_BUILDS = 2


class IndexUnavailable(Exception):
    """There is no readable index yet (first start, or deleted or corrupted under us)."""


class IndexStore:
    def __init__(self, data_dir: str, procs: int = 1):
        self.root = Path(data_dir) / "search"
        self.procs = procs
        self._progress_cache: tuple | None = None

    # -- where the live index is ---------------------------------------------------------------
    def current(self) -> Path | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        folder = self.root / name
        return folder if folder.is_dir() else None

    def open(self):
        folder = self.current()
        if folder is None:
            raise IndexUnavailable("no index has been built yet")
        try:
            return whoosh_index.open_dir(str(folder))
        except Exception as exc:  # Whoosh raises many kinds for a damaged folder
            raise IndexUnavailable(f"the index at {folder} cannot be read: {exc}") from exc

    def progress(self, folder: Path) -> dict:
        path = folder / "progress.json"
        try:
            stamp = path.stat().st_mtime_ns
            if self._progress_cache and self._progress_cache[0] == (path, stamp):
                return json.loads(self._progress_cache[1])  # a copy: callers change it
            text = path.read_text()
        except FileNotFoundError:
            return {"applied": 0, "gaps": {}}
        try:
            value = json.loads(text)
        except ValueError:
            return {"applied": 0, "gaps": {}}
        self._progress_cache = ((path, stamp), text)
        return value

    def _write_progress(self, folder: Path, progress: dict) -> None:
        tmp = folder / f".progress.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(progress))
        os.replace(tmp, folder / "progress.json")

    # -- full rebuild ---------------------------------------------------------------------------
    def rebuild(self, progress_bar: bool = False) -> dict:
        """Build a new index from the database beside the live one, then swap it in."""
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        # Rows written from now on will be replayed onto the new index by the next catch-up.
        start_position = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
        folder = self.root / f"ix-{time.time_ns()}"
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), documents.schema())
        total = db.session.scalar(sa.text("SELECT COUNT(*) FROM practitioners")) or 0
        count = 0
        words: set[str] = set()
        # Analysis is the cost: let Whoosh spread it over the cores, one segment each, no final merge.
        writer = (
            ix.writer(procs=self.procs, multisegment=True, limitmb=128) if self.procs > 1 else ix.writer()
        )
        with tqdm(total=total, desc="Indexing", unit=" practitioners", disable=not progress_bar) as bar:
            for ids in all_ids_in_batches():
                for facts in facts_for(ids).values():
                    text = documents.document_text(facts)
                    words |= documents.spelling_words(text)
                    writer.add_document(**documents.to_document(facts, text))
                    count += 1
                db.session.expunge_all()  # keep memory flat on large directories
                bar.update(len(ids))
        if words:
            writer.add_document(**documents.words_document(words))
        writer.commit()
        self._write_progress(folder, {"applied": start_position, "gaps": {}})
        self._swap(folder)
        return {"documents": count, "seconds": time.perf_counter() - started, "folder": folder.name}

    def _swap(self, folder: Path) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
        tmp.write_text(folder.name)
        os.replace(tmp, self.root / "CURRENT")
        builds = sorted(p for p in self.root.glob("ix-*") if p.is_dir())
        # Keep the previous build too: another process may still be reading it.
        for old in builds[:-KEEP_BUILDS]:
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)

    # -- following the outbox -------------------------------------------------------------------
    @contextmanager
    def exclusive(self, name: str, wait: bool = False):
        """A node-wide lock between processes (flock). Without `wait`, yields False when busy."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{name}.lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def behind(self) -> bool:
        """Cheap: is there any outbox row the live index has not applied?"""
        folder = self.current()
        if folder is None:
            return True
        state = self.progress(folder)
        newest = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
        return newest > state["applied"] or bool(state["gaps"])

    def catch_up(self, batch: int = 5000) -> int | None:
        """Apply outbox rows the live index lacks. Returns rows applied, or None if another
        process or thread is applying them right now."""
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
                        self._write_progress(folder, _advance(state, []))
                    return applied
                try:
                    writer = ix.writer(timeout=0)
                except LockError:
                    return applied or None
                self._apply(writer, {pid for _, pid in rows})
                writer.commit()
                self._write_progress(folder, _advance(state, [row_id for row_id, _ in rows]))
                applied += len(rows)
                if len(rows) < batch:
                    return applied

    def _pending_rows(self, state: dict, batch: int) -> list[tuple[int, int]]:
        gap_ids = [int(g) for g in state["gaps"]]
        condition = SearchOutbox.id > state["applied"]
        if gap_ids:
            condition = sa.or_(condition, SearchOutbox.id.in_(gap_ids))
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(SearchOutbox.id, SearchOutbox.practitioner_id)
                .where(condition)
                .order_by(SearchOutbox.id)
                .limit(batch)
            )
        ]

    def _apply(self, writer, practitioner_ids: set[int]) -> None:
        facts = facts_for(practitioner_ids)
        words: set[str] = set()
        for pid in sorted(practitioner_ids):
            if pid in facts:
                text = documents.document_text(facts[pid])
                words |= documents.spelling_words(text)
                writer.update_document(**documents.to_document(facts[pid], text))
            else:
                writer.delete_by_term("pid", str(pid))
        with writer.reader() as reader:
            new_words = {w for w in words if ("words", w) not in reader}
        if new_words:
            writer.add_document(**documents.words_document(new_words))


def _advance(state: dict, seen_ids: list[int]) -> dict:
    """Move the applied position past the rows just applied, remembering ids skipped over.

    Ids are handed out when a row is inserted but become visible when its transaction commits, so
    a later id can be seen before an earlier one. A skipped id is kept as a gap and looked for
    again until it appears or is old enough to belong to a transaction that rolled back."""
    now = time.time()
    gaps = {g: t for g, t in state["gaps"].items() if now - t < GAP_PATIENCE_SECONDS}
    applied = state["applied"]
    for row_id in seen_ids:
        gaps.pop(str(row_id), None)
        if row_id > applied:
            for missing in range(applied + 1, row_id):
                gaps.setdefault(str(missing), now)
            applied = row_id
    return {"applied": applied, "gaps": gaps}
