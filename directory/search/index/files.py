"""Opening the live index: the `CURRENT` pointer, the damage check, the progress file, the node's locks."""

import fcntl
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from directory.search.record import LAYOUT

BUILD_NAME = re.compile(r"ix-[0-9]+")
# Whoosh's table of contents (`_MAIN_<generation>.toc`) and segment files (`MAIN_<id>.seg`), not its
# lock file nor the temporary names it writes them under.
INDEX_FILE = re.compile(r"_MAIN_[0-9]+\.toc|MAIN_[0-9a-z]+\.[a-z]+")


class IndexUnavailable(Exception):
    """There is no readable index yet (first start, or deleted or corrupted under us)."""


class Progress(TypedDict):
    """A build's progress file (progress.json): the outbox position applied, and its files as written."""

    applied: int  # the outbox id the index has applied every row up to (but for the gaps)
    gaps: dict[str, float]  # outbox id (as text: JSON keys) → when it was first found missing (epoch s)
    files: NotRequired[dict[str, list[int]]]  # index file name → [size, mtime_ns] as written
    layout: NotRequired[str]  # record.LAYOUT of the code that wrote the index


class _QuietFile:
    """Closes itself, quietly, once nothing reads through it. A searcher replaced by a newer one is let
    go, never closed (another request may still be reading through it: search/node.py), so its files
    close when the last reader is collected, often in a batch of cycles where any part goes first."""

    def __del__(self) -> None:
        self.close()  # type: ignore[attr-defined]


class _RawSegmentFile(_QuietFile, io.FileIO):
    pass


class _SegmentFile(_QuietFile, io.BufferedReader):
    pass


class _ReadStorage(FileStorage):
    """An index folder read with plain reads (see IndexFiles.open_at), each file a _SegmentFile."""

    def __init__(self, folder: Path):
        super().__init__(str(folder), supports_mmap=False)

    def open_file(self, name: str, **kwargs: object) -> StructFile:
        return StructFile(_SegmentFile(_RawSegmentFile(self._fpath(name))), name=name, **kwargs)


class IndexFiles:
    def __init__(self, data_dir: str, procs: int = 1):
        self.root = Path(data_dir) / "search"
        self.procs = procs
        self._progress_cache: tuple[tuple[Path, int], str] | None = None
        self._current_cache: tuple[tuple[int, int, int], str | None] | None = None  # CURRENT's stat → name

    def current(self) -> Path | None:
        """The live build's folder; None when there is none, or when the pointer is damaged (garbled
        bytes, a name that is not a build's): either way the index is rebuilt, never trusted.

        Every search asks, so the pointer is read again only when its file changed (a swap replaces
        it, damage rewrites it): a stat, not an open and a read."""
        pointer = os.path.join(self.root, "CURRENT")
        try:
            found = os.stat(pointer)
        except OSError:
            return None
        stamp = (found.st_ino, found.st_size, found.st_mtime_ns)
        cached = self._current_cache
        if cached is None or cached[0] != stamp:
            try:
                with open(pointer, "rb") as fh:
                    name = fh.read(64).decode("ascii").strip()
            except (OSError, UnicodeDecodeError):
                return None
            cached = self._current_cache = (stamp, name if BUILD_NAME.fullmatch(name) else None)
        if cached[1] is None:
            return None
        folder = self.root / cached[1]
        return folder if os.path.isdir(folder) else None

    def live(self) -> Path:
        """The live build's folder (current()), or IndexUnavailable when there is none."""
        folder = self.current()
        if folder is None:
            raise IndexUnavailable("no index has been built yet")
        return folder

    def open(self) -> whoosh_index.Index:
        return self.open_at(self.live())

    def open_at(self, folder: Path) -> whoosh_index.Index:
        """The index in one build's folder, checked first (check_intact).

        Read with plain reads, not Whoosh's default memory map: a segment truncated between that check
        and a read kills a mapped reader with SIGBUS (no Python handler can catch it), where a plain
        read comes back short and raises, which the search answers as damage. What a search reads
        from a segment is copied into arrays once (search/arrays.py), so the maps saved little."""
        self.check_intact(folder)
        try:
            return _ReadStorage(folder).open_index()
        except Exception as exc:  # Whoosh raises many kinds for a damaged folder
            raise IndexUnavailable(f"the index at {folder} cannot be read: {exc}") from exc

    def check_intact(self, folder: Path) -> None:
        """IndexUnavailable if the index was written with another search record layout, or a file of it
        changed after it was written. Whoosh never rewrites a segment or table-of-contents file (a
        commit writes new ones), so a changed size or mtime means damage: truncated or overwritten. Reading such a file returns wrong answers or raises; a few
        stat calls per search keep both away (and open_at's plain reads keep the process alive when
        the damage comes between the check and a read). A file gone since is fine (a later commit dropped it)."""
        progress = self.progress(folder)
        if "files" in progress and progress.get("layout") != LAYOUT:
            # Written by code with another search record: its packed numbers would be misread.
            raise IndexUnavailable(f"the index at {folder} was written with another search record layout")
        for name, (size, mtime_ns) in progress.get("files", {}).items():
            try:
                found = os.stat(folder / name)
            except FileNotFoundError:
                continue
            if (found.st_size, found.st_mtime_ns) != (size, mtime_ns):
                raise IndexUnavailable(f"the index file {name} in {folder} changed after it was written")

    def progress(self, folder: Path) -> Progress:
        """The build's progress file: the outbox position applied (`applied`, `gaps`) and the files
        as written (`files`). Missing or damaged reads as nothing applied: replaying every row is slow
        but right."""
        path = folder / "progress.json"
        try:
            stamp = path.stat().st_mtime_ns
            cached = self._progress_cache
            # Parsed again even when unchanged: each caller gets a copy of its own to change.
            text = cached[1] if cached and cached[0] == (path, stamp) else path.read_text()
        except FileNotFoundError:
            return {"applied": 0, "gaps": {}}
        value = _parse(text)
        if value is None:
            return {"applied": 0, "gaps": {}}
        self._progress_cache = ((path, stamp), text)
        return value

    def _write_progress(self, folder: Path, progress: Progress) -> None:
        written: Progress = {
            "applied": progress["applied"],
            "gaps": progress["gaps"],
            "files": self._files(folder),
            "layout": LAYOUT,
        }
        tmp = folder / f".progress.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(written))
        os.replace(tmp, folder / "progress.json")

    def _files(self, folder: Path) -> dict[str, list[int]]:
        """Size and mtime of each index file, for check_intact. A file already recorded keeps its
        first record, so damage done since is never written down as the new normal."""
        recorded = self.progress(folder).get("files", {})
        files: dict[str, list[int]] = {}
        for entry in os.scandir(folder):
            if INDEX_FILE.fullmatch(entry.name):
                stat = entry.stat()
                files[entry.name] = recorded.get(entry.name) or [stat.st_size, stat.st_mtime_ns]
        return files

    @contextmanager
    def exclusive(self, name: str, wait: bool = False) -> Iterator[bool]:
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


def _parse(text: str) -> Progress | None:
    """A progress file's text as read back: None unless it is a JSON object with a whole `applied`."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("applied"), int):
        return None
    # Past `applied`, the shape is this module's own writing (_write_progress), read back as written.
    return cast(Progress, value)
