"""Every flush that touches what search shows about a practitioner writes an outbox row in the same
transaction. A model takes part by defining `outbox_practitioner_id()`; nothing else has to remember.

The rows are written in `after_flush` rather than `before_flush`: new rows have their ids by then,
and SQLAlchemy still lists the flushed objects as new/dirty/deleted, so nothing is missed.
"""

from collections.abc import Iterable

import sqlalchemy as sa
from flask import Flask, Response
from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy.orm import Session, UOWTransaction, scoped_session

from directory.search.models import SearchOutbox
from directory.timeutil import now_utc

# A session, or the app's scoped one (db.session), which stands for the session of the current scope.
SessionLike = Session | scoped_session[AppSession]


def practitioner_ids_touched(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if hasattr(obj, "outbox_practitioner_id"):
            ids.add(obj.outbox_practitioner_id())
    for obj in session.dirty:
        if hasattr(obj, "outbox_practitioner_id") and session.is_modified(obj):
            ids.add(obj.outbox_practitioner_id())
    ids.discard(None)
    return ids


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    ids = practitioner_ids_touched(session)
    if ids:
        now = now_utc()
        session.connection().execute(
            sa.insert(SearchOutbox), [{"practitioner_id": pid, "created_at": now} for pid in sorted(ids)]
        )
        session.info[WRITTEN] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(WRITTEN, False):
        session.info[COMMITTED] = True


def _after_rollback(session: Session) -> None:
    session.info.pop(WRITTEN, None)


WRITTEN, COMMITTED = "search_outbox_written", "search_outbox_committed"
LISTENERS = (
    ("after_flush", _after_flush),
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
)


def install(session_factory: scoped_session[AppSession]) -> None:
    # db.session outlives any one app (tests build many), so the listeners go on once.
    for name, listener in LISTENERS:
        if not sa.event.contains(session_factory, name, listener):
            sa.event.listen(session_factory, name, listener)


def committed_since_last_asked(session: SessionLike) -> bool:
    """True once after a commit that wrote outbox rows: time to ask the index to catch up."""
    return bool(session.info.pop(COMMITTED, False))


def write_rows(connection: sa.Connection, practitioner_ids: Iterable[int]) -> None:
    """For bulk writers (demo data) that go around the ORM's flush."""
    now = now_utc()
    rows = [{"practitioner_id": pid, "created_at": now} for pid in practitioner_ids]
    if rows:
        connection.execute(sa.insert(SearchOutbox), rows)


def touch(session: SessionLike, practitioner_ids: Iterable[int]) -> None:
    """Rows for a change search depends on that lives outside the practitioner's own models (an
    owner's email being confirmed): written in the session's transaction, applied after its commit."""
    write_rows(session.connection(), practitioner_ids)
    session.info[WRITTEN] = True


def catch_up_after_requests(app: Flask) -> None:
    """A request that committed outbox rows asks this node's index to apply them before it answers,
    so the writer's next search already sees the change."""
    from directory.extensions import db
    from directory.search.node import node

    @app.after_request
    def _catch_up(response: Response) -> Response:
        if committed_since_last_asked(db.session):
            node().catch_up_quietly()
        return response
