"""The Whoosh index of a node: where it lives, how it is rebuilt, and how it follows the outbox.

Layout under DATA_DIR/search/: one folder per build (`ix-<time>`), a `CURRENT` file naming the live
one (swapped with os.replace, so readers see the old or the new index, never half of one), and in
each folder a `progress.json` with the outbox position applied to it and the size and mtime of each
index file as written (damage done since is noticed: check_intact). Applying outbox rows is
idempotent (a practitioner's document is rebuilt from the database), so replaying a row is harmless;
skipping one is not, which is why gaps in the outbox ids are remembered (see `_advance`).
"""

import fcntl
import json
import logging
import os
import re
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
from directory.timeutil import now_utc

LOG = logging.getLogger(__name__)
GAP_PATIENCE_SECONDS = 120  # a missing outbox id older than this belonged to a rolled-back transaction
KEEP_BUILDS = 2
START_WINDOW = 1000  # outbox ids a new build looks back over for transactions still in flight
BUILD_NAME = re.compile(r"ix-[0-9]+")
# Whoosh's table of contents (`_MAIN_<generation>.toc`) and segment files (`MAIN_<id>.seg`), not its
# lock file nor the temporary names it writes them under.
INDEX_FILE = re.compile(r"_MAIN_[0-9]+\.toc|MAIN_[0-9a-z]+\.[a-z]+")


class IndexUnavailable(Exception):
    """There is no readable index yet (first start, or deleted or corrupted under us)."""


class IndexStore:
    def __init__(self, data_dir: str, procs: int = 1):
        self.root = Path(data_dir) / "search"
        self.procs = procs
        self._progress_cache: tuple | None = None

    # -- where the live index is ---------------------------------------------------------------
    def current(self) -> Path | None:
        """The live build's folder; None when there is none, or when the pointer is damaged (garbled
        bytes, a name that is not a build's): either way the index is rebuilt, never trusted."""
        try:
            name = (self.root / "CURRENT").read_bytes().decode("ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            return None
        if not BUILD_NAME.fullmatch(name):
            return None
        folder = self.root / name
        return folder if folder.is_dir() else None

    def open(self):
        folder = self.current()
        if folder is None:
            raise IndexUnavailable("no index has been built yet")
        self.check_intact(folder)
        try:
            return whoosh_index.open_dir(str(folder))
        except Exception as exc:  # Whoosh raises many kinds for a damaged folder
            raise IndexUnavailable(f"the index at {folder} cannot be read: {exc}") from exc

    def check_intact(self, folder: Path) -> None:
        """IndexUnavailable if a file of the index changed after it was written. Whoosh never rewrites
        a segment or table-of-contents file (a commit writes new ones), so a changed size or mtime means
        damage: truncated or overwritten. Reading such a file returns wrong answers, raises, or (a
        segment truncated under a reader's memory map) kills the process with SIGBUS; a few stat
        calls per search keep all three away. A file gone since is fine (a later commit dropped it)."""
        for name, (size, mtime_ns) in self.progress(folder).get("files", {}).items():
            try:
                found = os.stat(folder / name)
            except FileNotFoundError:
                continue
            if (found.st_size, found.st_mtime_ns) != (size, mtime_ns):
                raise IndexUnavailable(f"the index file {name} in {folder} changed after it was written")

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
        if not isinstance(value, dict) or not isinstance(value.get("applied"), int):
            return {"applied": 0, "gaps": {}}  # damaged: replaying every row is slow but right
        self._progress_cache = ((path, stamp), text)
        return value

    def _write_progress(self, folder: Path, progress: dict) -> None:
        progress = {"applied": progress["applied"], "gaps": progress["gaps"], "files": self._files(folder)}
        tmp = folder / f".progress.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(progress))
        os.replace(tmp, folder / "progress.json")

    def _files(self, folder: Path) -> dict[str, list[int]]:
        """Size and mtime of each index file, for check_intact. A file already recorded keeps its
        first record, so damage done since is never written down as the new normal."""
        recorded = self.progress(folder).get("files", {})
        files = {}
        for entry in os.scandir(folder):
            if INDEX_FILE.fullmatch(entry.name):
                stat = entry.stat()
                files[entry.name] = recorded.get(entry.name) or [stat.st_size, stat.st_mtime_ns]
        return files

    # -- full rebuild ---------------------------------------------------------------------------
    def rebuild(self, progress_bar: bool = False) -> dict:
        """Build a new index from the database beside the live one, then swap it in."""
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        # Rows written from now on will be replayed onto the new index by the next catch-up.
        start = self._start_position()
        folder = self.root / f"ix-{time.time_ns()}"
        folder.mkdir()
        try:
            count = self._build(folder, progress_bar)
        except BaseException:
            # A failed or interrupted build is never swapped in; leave no half-built folder behind.
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._write_progress(folder, start)
        self._swap(folder)
        return {"documents": count, "seconds": time.perf_counter() - started, "folder": folder.name}

    def _start_position(self) -> dict:
        """Where a new build starts following: the newest outbox id, with the recent ids not visible
        yet kept as gaps. Such an id belongs to a transaction still in flight, whose change the build
        may not read; starting plainly past it would lose that change for good."""
        recent = db.session.scalars(
            sa.select(SearchOutbox.id).order_by(SearchOutbox.id.desc()).limit(START_WINDOW)
        ).all()
        if not recent:
            return {"applied": 0, "gaps": {}}
        recent.reverse()
        return _advance({"applied": recent[0], "gaps": {}}, recent[1:])

    def _build(self, folder: Path, progress_bar: bool) -> int:
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
        return count

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
                        self._write_progress(folder, _advance(state, []))
                    return applied
                started = time.perf_counter()
                try:
                    writer = ix.writer(timeout=0)
                except LockError:
                    return applied or None
                practitioners = {pid for _, pid in rows}
                self._apply(writer, practitioners)
                writer.commit()
                state = _advance(state, [row_id for row_id, _ in rows])
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
            sa.select(sa.func.count(), sa.func.min(SearchOutbox.created_at)).where(_unapplied(state))
        ).one()
        age = None if oldest is None else max(0.0, round((now_utc() - oldest).total_seconds(), 3))
        return {"applied": state["applied"], "pending": count, "oldest_seconds": age}

    def _pending_rows(self, state: dict, batch: int) -> list[tuple[int, int]]:
        condition = _unapplied(state)
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


def _unapplied(state: dict):
    """The outbox rows a progress state has not applied: after its position, or in its gaps."""
    condition = SearchOutbox.id > state["applied"]
    gap_ids = [int(g) for g in state["gaps"]]
    if gap_ids:
        condition = sa.or_(condition, SearchOutbox.id.in_(gap_ids))
    return condition


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
