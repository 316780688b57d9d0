"""Walks: API paging that holds while the data changes.

A walk (GET /api/v1/search?walk=true) runs on one pinned index generation (an IndexView) of the
node that answered, and pages through it by keyset: the cursor carries the search, the walk's clock
and the sort key of the last result given, signed with the app's secret. The pinned generation
never changes and the clock stands still, so the order is the same on every page and each match is
given exactly once, however ratings and profiles change meanwhile. Cards still come from the
database (present.py): a revoked badge never shows as verified because a walk is old.

A pin is node-wide: its generation's files (Whoosh never rewrites one) are hard-linked into
DATA_DIR/search/walks/<pin id>/ beside a pin.json saying until when it holds, so any worker process
of the node can open it, sharing the arrays of the segments it has in common with its live view. A
node that does not hold the pin (another node, or a pin let go) answers 410: the walk starts again,
and behind a balancer walks want sticky routing.

Memory: a walk that starts within REUSE seconds of the newest pin shares it (so its first page may
lack the last REUSE seconds of changes), and a pin is let go TTL seconds after the last walk started
on it. Only the newest pin is shared, so each older one was let go TTL after the next was made, and
pins are made at least REUSE apart: at most TTL / REUSE + 1 generations (6) are pinned at once
however many walks run.
"""

import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from whoosh.searching import Searcher

from directory.rules import RuleError
from directory.search import engine
from directory.search.arrays import ArrayCache, IndexView, view_cache_budget
from directory.search.record import LAYOUT

LOG = logging.getLogger(__name__)
SALT = "search-walk"
PIN_ID = re.compile(r"[A-Za-z0-9_-]{16}")
# The Query fields a cursor carries; page and paging state are the walk's own.
CARRIED = tuple(f.name for f in fields(engine.Query) if f.name not in ("page", "per_page", "after"))
ENDED = (
    "This walk through the results has ended: its cursor is more than {minutes} minutes old, or was given "
    "by another server. Start the search again."
)
LINK_ATTEMPTS = 3  # a commit may clean a generation's files away while they are linked: take the next


@dataclass(frozen=True)
class Generation:
    """One generation of the live index, as a process holds it: where its files are, and its view."""

    folder: Path
    number: int  # the table of contents' generation
    segments: tuple[str, ...]  # Whoosh's segment ids: MAIN_<id>, the stem of the segment's files
    view: IndexView


@dataclass
class PinFile:
    """pin.json: the generation a pin holds and until when (epoch seconds)."""

    build: str
    generation: int
    created: float
    until: float
    layout: str = LAYOUT


class Pins:
    """The node's pinned generations, by pin id (random, so another node never knows one): on disk
    under `root`, and the views this process has opened of them."""

    def __init__(
        self, root: Path, opener: Callable[[Path], Searcher], other_view: Callable[[Searcher], IndexView]
    ):
        self.root = root
        self._open = opener  # an index folder → a searcher on it
        self._other_view = other_view  # a searcher on another generation → its view
        self._views: dict[str, IndexView] = {}
        self._lock = threading.Lock()

    def start(
        self, live: Callable[[], Generation], now: datetime, ttl: float, reuse: float
    ) -> tuple[str, IndexView]:
        """A pin for a walk starting now: the newest pin when it holds the live generation or is
        younger than `reuse` seconds, else a new one of the live generation (`live()`). Returns the
        pin's id and the generation's view."""
        stamp = now.timestamp()
        with self._lock:
            self._let_go(stamp)
            generation = live()
            newest = self._newest()
            if newest is not None:
                pin_id, pin = newest
                same = (pin.build, pin.generation) == (generation.folder.name, generation.number)
                view = self._opened(pin_id) if same or stamp - pin.created < reuse else None
                if view is not None:
                    try:
                        self._write(self.root / pin_id, replace(pin, until=stamp + ttl))
                        return pin_id, view
                    except FileNotFoundError:
                        pass  # let go by another process just now: pin anew
            for _ in range(LINK_ATTEMPTS):
                linked = self._link(generation, stamp, ttl)
                if linked is not None:
                    # A copy with caches of its own: what other searches read on the live view is not
                    # kept alive by the pin, only the generation's arrays (shared) and readers.
                    view = replace(
                        generation.view,
                        _postings=ArrayCache(view_cache_budget(generation.view.doc_count)),
                        _bits={},
                        _languages=None,
                        _lock=threading.Lock(),
                    )
                    self._views[linked] = view
                    return linked, view
                generation = live()
            raise RuleError(
                503, "The search index is changing too fast to start a walk; try again.", retry_after=5
            )

    def view(self, pin_id: str, now: datetime) -> IndexView | None:
        """The pinned generation, or None once it is let go (or was never pinned on this node)."""
        if not PIN_ID.fullmatch(pin_id):
            return None
        with self._lock:
            self._let_go(now.timestamp())
            return self._opened(pin_id)

    def __len__(self) -> int:
        """How many generations are pinned on this node."""
        return len(self._pin_files())

    def _opened(self, pin_id: str) -> IndexView | None:
        view = self._views.get(pin_id)
        if view is None and (self.root / pin_id / "pin.json").exists():
            try:
                view = self._views[pin_id] = self._other_view(self._open(self.root / pin_id))
            except Exception:  # noqa: BLE001 - let go by another process meanwhile, or damaged
                LOG.warning("the pinned search generation %s could not be opened", pin_id, exc_info=True)
                return None
        return view

    def _link(self, generation: Generation, stamp: float, ttl: float) -> str | None:
        """The generation's files hard-linked into a new pin's folder; None if some are gone."""
        pin_id = secrets.token_urlsafe(12)
        building = self.root / f".{pin_id}.{os.getpid()}"
        building.mkdir(parents=True)
        try:
            names = [f"_MAIN_{generation.number}.toc"] + [
                entry.name
                for entry in os.scandir(generation.folder)  # gone too, after a rebuild's swap
                if entry.name.split(".")[0] in set(generation.segments)  # MAIN_<id>.<kind>
            ]
            for name in names:
                os.link(generation.folder / name, building / name)
        except FileNotFoundError:  # a commit cleaned this generation away: the caller takes the next
            shutil.rmtree(building, ignore_errors=True)
            return None
        self._write(building, PinFile(generation.folder.name, generation.number, stamp, stamp + ttl))
        os.replace(building, self.root / pin_id)
        return pin_id

    def _pin_files(self) -> dict[str, PinFile]:
        found: dict[str, PinFile] = {}
        if not self.root.is_dir():
            return found
        for entry in os.scandir(self.root):
            if PIN_ID.fullmatch(entry.name):
                try:
                    found[entry.name] = PinFile(**json.loads(Path(entry.path, "pin.json").read_text()))
                except (OSError, ValueError, TypeError):
                    continue  # let go meanwhile, or half written: not a pin to share
        return found

    def _newest(self) -> tuple[str, PinFile] | None:
        pins = [(pin_id, pin) for pin_id, pin in self._pin_files().items() if pin.layout == LAYOUT]
        return max(pins, key=lambda item: item[1].created, default=None)

    def _let_go(self, stamp: float) -> None:
        """Drop expired pins: this process's views of them, and their folders (any process may)."""
        pins = self._pin_files()
        for pin_id in list(self._views):
            if pin_id not in pins or pins[pin_id].until <= stamp:
                del self._views[pin_id]
        for pin_id, pin in pins.items():
            if pin.until <= stamp or pin.layout != LAYOUT:
                shutil.rmtree(self.root / pin_id, ignore_errors=True)
        if self.root.is_dir():  # folders a process died while linking
            for entry in os.scandir(self.root):
                if entry.name.startswith(".") and entry.stat().st_mtime < stamp - 3600:
                    shutil.rmtree(entry.path, ignore_errors=True)

    @staticmethod
    def _write(folder: Path, pin: PinFile) -> None:
        tmp = folder / f".pin.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(asdict(pin)))
        os.replace(tmp, folder / "pin.json")


@dataclass
class Cursor:
    """Where a walk stands: its pin, its search, the clock it runs on, the last key it gave."""

    pin: str
    query: dict[str, Any]  # the CARRIED Query fields
    location: dict[str, Any] | None
    now: datetime
    after: int
    page: int  # the page this cursor asks for
    per_page: int  # its walk's page size so far
    suggestion: str | None
    showing_results_for: str | None

    def engine_query(self, per_page: int | None = None) -> engine.Query:
        """The next page's query: per_page as given, else as the walk's pages so far."""
        return engine.Query(
            **self.query, page=self.page, per_page=per_page or self.per_page, after=self.after
        )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def encode(cursor: Cursor) -> str:
    data = asdict(cursor)
    data["now"] = cursor.now.isoformat()
    return _serializer().dumps(data)


def decode(token: str) -> Cursor:
    """The cursor a token stands for; 422 for anything this service did not sign."""
    try:
        data = _serializer().loads(token)
        cursor = Cursor(**{**data, "now": datetime.fromisoformat(data["now"])})
        if set(cursor.query) != set(CARRIED):  # a cursor of another release: its walk starts again
            raise ValueError("not this release's cursor")
        cursor.engine_query()
    except (BadSignature, TypeError, KeyError, ValueError) as exc:
        raise RuleError(422, "This cursor is not one this search gave out.", field="cursor") from exc
    return cursor


def carried(query: engine.Query) -> dict[str, Any]:
    return {name: getattr(query, name) for name in CARRIED}


def pinned_view(pins: Pins, cursor: Cursor, now: datetime) -> IndexView:
    """The cursor's generation; 410 once its pin is let go, or on a node that never held it."""
    view = pins.view(cursor.pin, now)
    if view is None:
        minutes = current_app.config["SEARCH_CURSOR_SECONDS"] // 60
        raise RuleError(410, ENDED.format(minutes=minutes), field="cursor")
    return view
