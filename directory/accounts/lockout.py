"""Per-account lockout after too many failed sign-ins (wrong passwords and wrong second-factor codes).

Failures are rows in the database, so the lockout holds whichever worker serves the next try.
"""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from directory.accounts.models import LoginFailure, User
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc


def retry_after(user: User, now: datetime) -> int | None:
    """Seconds until `user` may try again, or None if not locked."""
    cfg = current_app.config
    window = timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"])
    recent = db.session.scalars(
        sa.select(LoginFailure.at)
        .where(LoginFailure.user_id == user.id, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .limit(cfg["LOGIN_MAX_FAILURES"])
    ).all()
    if len(recent) < cfg["LOGIN_MAX_FAILURES"]:
        return None
    # Locked until the oldest of the last N failures leaves the window.
    unlock_at = recent[-1] + window
    return max(1, int((unlock_at - now).total_seconds()) + 1)


def refuse_if_locked(user: User) -> None:
    wait = retry_after(user, now_utc())
    if wait:
        security_event("sign_in.locked", logging.WARNING, user_id=user.id, retry_after=wait)
        raise RuleError(429, "Too many failed sign-ins. Try again later.", retry_after=wait)


def record_failure(user: User, now: datetime) -> None:
    db.session.add(LoginFailure(user_id=user.id, at=now))
    db.session.commit()


def clear(user: User) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.user_id == user.id))
    db.session.commit()
