"""A large build spread over worker processes, each reading its own practitioners from the database.

Whoosh's multiprocessing writer analyses text in its children, but the parent still reads every
practitioner, assembles every document and pickles it across: on two cores the parent was the
bottleneck and the children waited (100,000 practitioners took 101 s). Here each child takes batches
of ids from a queue, reads their facts itself, writes them into a segment of its own and, when the
queue ends, hands back the finished segment and the spelling words it saw. The parent then commits
those segments with one more holding the words document, in one table of contents: readers see the
whole build or none of it (it is swapped in only afterwards, building.py).

Children are spawned, not forked: the parent may be a threaded server whose other threads hold locks
(the database pool's, logging's) that a forked child would inherit held. Each starts its own app from
the parent's settings. Whoosh has no public API for segments written elsewhere; the calls below are the
ones its MpWriter makes in multisegment mode (whoosh/multiproc.py), with the version pinned.
"""

from __future__ import annotations

import multiprocessing
import pickle  # nosec B403: only to test what multiprocessing will pickle to our own children
import queue
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from directory.search import documents

# A child with nothing to report for this long is checked on: a crashed one must not hang the build.
POLL_SECONDS = 1.0
LIMIT_MB = 128  # each child's in-memory postings before they spill to disk (Whoosh's default)


def build(
    folder: Path,
    procs: int,
    batches: Iterable[Sequence[int]],
    words: set[str],
    on_batch: Callable[[int], object],
) -> int:
    """Write every batch's practitioners into the empty index at `folder` with `procs` children, and
    `words` (the domain's) with theirs into its words document; returns how many were written."""
    context = multiprocessing.get_context("spawn")
    jobs = context.Queue(maxsize=procs * 2)
    results = context.Queue()
    settings = _settings(current_app.config)
    children = [
        context.Process(target=_child, args=(settings, str(folder), jobs, results), daemon=True)
        for _ in range(procs)
    ]
    # Holds the index's write lock until the commit, and writes the words document.
    writer = SegmentWriter(whoosh_index.open_dir(str(folder)), limitmb=LIMIT_MB, codec=documents.codec())
    try:
        for child in children:
            child.start()
        watch = _Watch(children, results, on_batch)
        for batch in batches:
            watch.put(jobs, list(batch))
        for _ in children:
            watch.put(jobs, None)
        segments, count = watch.finished(words)
        writer.add_document(**documents.words_document(words))
        writer._commit_toc([*segments, writer._finalize_segment()])  # noqa: SLF001  (see the docstring)
        writer._finish()  # noqa: SLF001
    except BaseException:
        writer.cancel()  # its files closed before the caller removes the folder
        raise
    finally:
        jobs.cancel_join_thread()  # a job a dead child never took must not hold this process at exit
        for child in children:
            if child.is_alive():
                child.terminate()
            if child.pid is not None:  # started
                child.join()
    return count


class _Watch:
    """The parent's side of the results queue: progress, finished segments, and children that died."""

    def __init__(
        self,
        children: Sequence[multiprocessing.process.BaseProcess],
        results: Queue[Any],
        on_batch: Callable[[int], object],
    ) -> None:
        self.children, self.results, self.on_batch = children, results, on_batch
        self.segments: list[Any] = []  # Whoosh segments
        self.count = 0
        self.done = 0

    def put(self, jobs: Queue[Any], job: list[int] | None) -> None:
        while True:
            self.drain(block=False)
            try:
                jobs.put(job, timeout=POLL_SECONDS)
                return
            except queue.Full:
                self.check_alive()

    def finished(self, words: set[str]) -> tuple[list[Any], int]:
        while self.done < len(self.children):
            self.drain(block=True, words=words)
        return self.segments, self.count

    def drain(self, block: bool, words: set[str] | None = None) -> None:
        while True:
            try:
                message = self.results.get(timeout=POLL_SECONDS) if block else self.results.get_nowait()
            except queue.Empty:
                self.check_alive()
                return
            kind, *rest = message
            if kind == "batch":
                self.on_batch(rest[0])
            elif kind == "error":
                raise RuntimeError(f"an index build process failed:\n{rest[0]}")
            else:  # "segment": segment (None when it was given nothing), its words, its count
                segment, seen, count = rest
                if segment is not None:
                    self.segments.append(segment)
                if words is not None:
                    words |= seen
                self.count += count
                self.done += 1
            if block:
                return

    def check_alive(self) -> None:
        dead = [c.exitcode for c in self.children if c.exitcode not in (None, 0)]
        if dead:
            raise RuntimeError(f"an index build process exited with {dead[0]}")


def _settings(config: Mapping[str, object]) -> dict[str, object]:
    """The parent's settings that can cross to a child (all of them in practice: plain values)."""
    kept = {}
    for key, value in config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001, S112  # nosec B112: a value that cannot be pickled stays behind
            continue
        kept[key] = value
    return kept


def _next_job(jobs: Queue[Any]) -> list[int] | None:
    """The next batch of ids; None at the end, or once the parent is gone (killed, it sends no end)."""
    while True:
        try:
            job: list[int] | None = jobs.get(timeout=POLL_SECONDS)
            return job
        except queue.Empty:
            parent = multiprocessing.parent_process()
            if parent is None or not parent.is_alive():
                return None


def _child(settings: dict[str, object], folder: str, jobs: Queue[Any], results: Queue[Any]) -> None:
    try:
        from directory import create_app
        from directory.extensions import db
        from directory.search.index.writing import add_batch

        app = create_app(settings)
        with app.app_context():
            writer = SegmentWriter(
                whoosh_index.open_dir(folder), _lk=False, limitmb=LIMIT_MB, codec=documents.codec()
            )
            words: set[str] = set()
            count = 0
            while (ids := _next_job(jobs)) is not None:
                count += add_batch(writer, ids, words)
                results.put(("batch", len(ids)))
            db.session.remove()
            if count:
                segment = writer._finalize_segment()  # noqa: SLF001  (see the docstring)
            else:
                writer._close_segment()  # noqa: SLF001
                segment = None
            results.put(("segment", segment, words, count))
    except BaseException:  # noqa: BLE001  (reported to the parent, which raises it)
        results.put(("error", traceback.format_exc()))
