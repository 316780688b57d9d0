"""Evidence uploads in flight, and the sweep that clears what a killed process left behind.

An upload's file is written (and fsynced) before the transaction that names it commits, so no row
ever names a missing file. A process killed between the two (kill -9, an out-of-memory kill, a
worker timeout) leaves a file that no row names. To tell such an orphan from an upload that another
worker is still making, each upload holds an exclusive flock on a marker `<token>.inflight`, from
before its file exists until its transaction has ended. The kernel drops the lock when the process
dies, however it dies, so a marker the sweep can lock belongs to a dead upload: its file goes,
unless a row names it (the commit happened, the clean-up after it did not).

Why not write under a temporary name and rename after the commit: a kill between the commit and the
rename would leave a row naming a missing file, which is worse than an orphan and needs this same
sweep to repair; here the file's path never changes.
"""

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

LOG = logging.getLogger(__name__)
MARKER = ".inflight"
PART = ".part"
_held: dict[Path, int] = {}  # marker path → the descriptor holding its lock, in this process
_guard = threading.Lock()


def marker_of(path: Path) -> Path:
    return path.with_suffix(MARKER)


def begin(target: Path) -> None:
    """Claim `target` before anything is written to it: create its marker and lock it."""
    marker = marker_of(target)
    while True:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        # A sweep that locked the new marker before we did (no file yet: a dead upload, to it) may
        # have removed it; a lock on an unlinked marker protects nothing, so make another.
        try:
            ours = os.stat(marker).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            ours = False
        if ours:
            break
        os.close(fd)
    with _guard:
        _held[marker] = fd


def end(target: Path) -> None:
    """The upload's transaction has ended (committed, or rolled back with the file removed)."""
    marker = marker_of(target)
    with _guard:
        fd = _held.pop(marker, None)
    marker.unlink(missing_ok=True)  # while still locked: a sweep never sees it unlocked and present
    if fd is not None:
        os.close(fd)


def sweep_dead(folder: Path, named: Callable[[Iterable[str]], set[str]]) -> list[str]:
    """Clear every upload whose process died before ending it. `named(names)` returns those of the
    stored names that a database row names. Returns the stored names whose files were removed."""
    removed = []
    for marker in sorted(folder.glob(f"*{MARKER}")):
        try:
            fd = os.open(marker, os.O_RDONLY)
        except FileNotFoundError:
            continue  # ended meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live upload
            stored = marker.with_suffix(".bin")
            # Asked only now, under the lock: a commit made before the uploader let go is visible.
            if not named([stored.name]):
                for leftover in (stored, stored.with_suffix(PART)):
                    if leftover.exists():
                        leftover.unlink(missing_ok=True)
                        removed.append(leftover.name)
            marker.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return removed


def sweep_unnamed(folder: Path, named: Callable[[Iterable[str]], set[str]]) -> list[str]:
    """Also remove files that no row names and no upload claims (left by a version without markers,
    or put there by hand). A file whose marker is gone was committed, so the row is asked again."""
    candidates = [p for p in folder.iterdir() if p.suffix in (".bin", PART) and p.is_file()]
    known = named(p.with_suffix(".bin").name for p in candidates)
    removed = []
    for path in candidates:
        stored = path.with_suffix(".bin").name
        if stored in known or marker_of(path).exists() or named([stored]):
            continue
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def named_in_database(names: Iterable[str]) -> set[str]:
    """Those of `names` that an Evidence row names (asked in chunks: SQLite caps bound parameters)."""
    import sqlalchemy as sa

    from directory.credentials.models import Evidence
    from directory.extensions import db

    names = list(names)
    found: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        found.update(
            db.session.scalars(sa.select(Evidence.stored_name).where(Evidence.stored_name.in_(chunk)))
        )
    return found


def sweep(folder: Path, unnamed_too: bool = False) -> list[str]:
    """The dead uploads' files removed (and, with `unnamed_too`, any file no row names)."""
    if not folder.is_dir():
        return []
    removed = sweep_dead(folder, named_in_database)
    if unnamed_too:
        removed += sweep_unnamed(folder, named_in_database)
    if removed:
        LOG.warning(
            "evidence.swept", extra={"event": "evidence.swept", "files": len(removed), "names": removed[:20]}
        )
    return removed


def sweep_once_per_process(app) -> None:
    """At the first request a process serves: the uploads of a process killed before it (a worker
    that died, the whole server) are cleared without anyone running a command."""
    key = "directory_evidence_swept"
    if app.extensions.get(key) == os.getpid():
        return
    app.extensions[key] = os.getpid()
    try:
        sweep(Path(app.config["DATA_DIR"]) / "evidence")
    except Exception:  # noqa: BLE001 - never fail a request over housekeeping; the next process retries
        LOG.exception("sweeping dead evidence uploads failed")
