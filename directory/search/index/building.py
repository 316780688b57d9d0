"""Rebuilding: a new index from the database, built beside the live one and swapped in atomically."""

import os
import shutil
import time
from pathlib import Path
from typing import TypedDict

import sqlalchemy as sa
from flask import current_app
from tqdm import tqdm
from whoosh import index as whoosh_index

from directory.extensions import db
from directory.search import documents
from directory.search.facts import all_ids_in_batches
from directory.search.index import parallel
from directory.search.index.files import IndexFiles, Progress
from directory.search.index.progress import advance
from directory.search.index.writing import add_everyone, domain_words
from directory.search.models import SearchOutbox


class RebuildSummary(TypedDict):
    documents: int  # practitioners written
    seconds: float
    folder: str  # the new build's folder name


KEEP_BUILDS = 2
START_WINDOW = 1000  # outbox ids a new build looks back over for transactions still in flight
BATCH = 2000  # practitioners a build process reads at a time


class Rebuilding(IndexFiles):
    def rebuild(self, progress_bar: bool = False) -> RebuildSummary:
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

    def _start_position(self) -> Progress:
        """Where a new build starts following: the newest outbox id, with the recent ids not visible
        yet kept as gaps. Such an id belongs to a transaction still in flight, whose change the build
        may not read; starting plainly past it would lose that change for good."""
        recent = db.session.scalars(
            sa.select(SearchOutbox.id).order_by(SearchOutbox.id.desc()).limit(START_WINDOW)
        ).all()
        if not recent:
            return {"applied": 0, "gaps": {}}
        ascending = recent[::-1]
        return advance({"applied": ascending[0], "gaps": {}}, ascending[1:])

    def _build(self, folder: Path, progress_bar: bool) -> int:
        ix = whoosh_index.create_in(str(folder), documents.schema())
        total = db.session.scalar(sa.text("SELECT COUNT(*) FROM practitioners")) or 0
        # Starting a process costs about a second: small directories are built in this one.
        spread = self.procs > 1 and total >= current_app.config["SEARCH_PARALLEL_BUILD_FROM"]
        with tqdm(total=total, desc="Indexing", unit=" practitioners", disable=not progress_bar) as bar:
            if spread:
                return parallel.build(
                    folder, self.procs, all_ids_in_batches(BATCH), domain_words(), bar.update
                )
            writer = ix.writer(codec=documents.codec())
            count = add_everyone(writer, bar.update)
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
