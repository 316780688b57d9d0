"""Signed-in browsers (WebSession) and API tokens (ApiToken): issued, looked up, ended.

Both are "grants": a random secret handed to the caller once and kept here only as its SHA-256, with
an absolute end and an idle end. Ending them is a database write, so a copied cookie or token dies
everywhere at once, whichever worker it is presented to.

Issuing, ending and marking write into the caller's transaction and never commit: the action that
calls them (a sign-in, a password change, a second factor passed) commits once. The one commit here is
`find`'s touch of the idle clock, which runs when the caller is identified, before any action writes.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from directory.accounts.models import (
    ApiToken,
    EmailConfirmation,
    PasswordReset,
    RecoveryCode,
    User,
    WebSession,
)
from directory.accounts.throttle import client_address
from directory.extensions import affected, db
from directory.timeutil import now_utc

Grant = WebSession | ApiToken
# One kind of grant at a time: what `issue` and `find` are given (the class) is what they answer.
G = TypeVar("G", WebSession, ApiToken)
# The rows a secret can be used once from (`claim`).
OneUse = PasswordReset | EmailConfirmation | RecoveryCode
# Writing last_seen_at on every request would turn each page view into a write; a minute is precise enough.
TOUCH_EVERY = timedelta(seconds=60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _limits(kind: type[Grant]) -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    if kind is WebSession:
        return timedelta(hours=cfg["WEB_SESSION_TTL_HOURS"]), timedelta(
            minutes=cfg["WEB_SESSION_IDLE_MINUTES"]
        )
    return timedelta(hours=cfg["API_TOKEN_TTL_HOURS"]), timedelta(hours=cfg["API_TOKEN_IDLE_HOURS"])


def issue(kind: type[G], user: User, mfa: bool = False) -> tuple[str, G]:
    """A new grant for someone who has just proved their password (and, with `mfa`, their second factor)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    absolute, _ = _limits(kind)
    row = kind(
        token_hash=digest(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + absolute,
        last_seen_at=now,
        authenticated_at=now,
        mfa_at=now if mfa else None,
        address=client_address(),
    )
    db.session.add(row)
    return token, row


def find(kind: type[G], token: str) -> G | None:
    """The live grant for this secret, touched as seen; None if unknown, ended, expired or idle too long."""
    if not token:
        return None
    row = db.session.scalar(sa.select(kind).where(kind.token_hash == digest(token)))
    if row is None or getattr(row, kind.end_column) is not None:
        return None
    now = now_utc()
    _, idle = _limits(kind)
    if row.expires_at <= now or (row.last_seen_at or row.created_at) + idle <= now:
        return None
    if row.last_seen_at is None or now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        # Committed here: a request that only reads commits nothing else, and no action has begun yet.
        db.session.commit()
    return row


def end_grant(row: Grant) -> None:
    setattr(row, row.end_column, now_utc())


def end(kind: type[Grant], token: str) -> None:
    end_column = getattr(kind, kind.end_column)
    db.session.execute(
        sa.update(kind)
        .where(kind.token_hash == digest(token), end_column.is_(None))
        .values({end_column: now_utc()})
    )


def end_all(user: User) -> int:
    """End every browser session and API token of `user`: how many there were."""
    now = now_utc()
    ended = 0
    for kind in (WebSession, ApiToken):
        end_column = getattr(kind, kind.end_column)
        query = sa.update(kind).where(kind.user_id == user.id, end_column.is_(None))
        ended += affected(query.values({end_column: now}))
    return ended


def mark(row: Grant, *, mfa: bool = False, authenticated: bool = False) -> None:
    """Record on a live grant that its holder just passed the second factor and/or re-entered the password."""
    now = now_utc()
    if mfa:
        row.mfa_at = now
    if authenticated:
        row.authenticated_at = now


def is_fresh(row: Grant | None, now: datetime | None = None) -> bool:
    """Password and second factor proved within the last ADMIN_FRESH_MINUTES: enough to verify or revoke."""
    if row is None or row.mfa_at is None or row.authenticated_at is None:
        return False
    window = timedelta(minutes=current_app.config["ADMIN_FRESH_MINUTES"])
    now = now or now_utc()
    return now - row.authenticated_at <= window and now - row.mfa_at <= window


def claim(model: type[OneUse], *where: sa.ColumnElement[bool]) -> bool:
    """Use up a one-use row (a reset link, a confirmation link, a recovery code) with a conditional
    update, so that of two requests racing with the same secret exactly one wins. False (and the
    transaction rolled back) for the loser."""
    claimed = affected(sa.update(model).where(*where, model.used_at.is_(None)).values(used_at=now_utc()))
    if not claimed:
        db.session.rollback()
    return bool(claimed)
