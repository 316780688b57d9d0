"""Forgotten passwords: a one-use link by mail, valid for PASSWORD_RESET_TTL_MINUTES.

Asking never tells whether an account exists (the same answer, the same work either way); the link's
token is kept only as its SHA-256; using it ends every session and token of the account.
"""

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from directory import mail
from directory.accounts import grants, service
from directory.accounts.models import PasswordReset, User
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

BAD_LINK = "This reset link is not valid any more. Ask for a new one."


def request_reset(email: str) -> None:
    user = db.session.scalar(sa.select(User).where(User.email == service.normalise_email(email)))
    if user is None or user.password_hash is None:
        security_event("password.reset_requested", known=False)
        return
    now = now_utc()
    recent = db.session.scalar(
        sa.select(sa.func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)
        )
    )
    if recent >= current_app.config["PASSWORD_RESETS_PER_HOUR"]:
        # Silently: saying "too many" would tell the asker the account exists.
        security_event("password.reset_throttled", logging.WARNING, user_id=user.id)
        return
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    db.session.add(
        PasswordReset(
            token_hash=grants.digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=ttl),
        )
    )
    db.session.commit()
    link = url_for("accounts.reset_link", token=token, _external=True)
    mail.send(
        user.email,
        "Reset your password",
        f"Someone asked to reset the password of your account.\n\nTo choose a new password, open this link "
        f"within {ttl} minutes:\n\n{link}\n\nIf it was not you, ignore this message: your password stays as it is.\n",
    )
    security_event("password.reset_requested", known=True, user_id=user.id)


def check_token(token: str) -> PasswordReset:
    row = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == grants.digest(token or ""))
    )
    if row is None or row.used_at is not None or row.expires_at <= now_utc():
        raise RuleError(422, BAD_LINK, field="token")
    return row


def complete_reset(token: str, password: str) -> User:
    service.check_new_password(password)
    row = check_token(token)
    # Claimed with a conditional update, so two tabs racing with one link cannot both use it.
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == row.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now_utc())
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise RuleError(422, BAD_LINK, field="token")
    user = row.user
    service.set_password(user, password)
    security_event("password.reset", user_id=user.id)
    return user
