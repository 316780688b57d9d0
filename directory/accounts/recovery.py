"""Forgotten passwords: a one-use link by mail, valid for PASSWORD_RESET_TTL_MINUTES.

Asking never tells whether an account exists: a known and an unknown address cost the same work in
the request (a row, a queued mail; the mail itself goes after the response, directory/mail.py) and
get the same answer. The link's token is kept only as its SHA-256. Opening the link swaps the token
for a random handle bound to that row, and only the handle goes into the browser's session, so the
token is never in a cookie. Using it ends every session and token of the account.
"""

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from directory import mail
from directory.accounts import grants, service, throttle
from directory.accounts.models import PasswordReset, User
from directory.config import absolute_url
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

BAD_LINK = "This reset link is not valid any more. Ask for a new one."


def request_reset(email: str) -> None:
    email = service.normalise_email(email)
    email_digest = throttle.account_key(email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    now = now_utc()
    recent = db.session.scalar(
        sa.select(sa.func.count(PasswordReset.id)).where(
            PasswordReset.email_digest == email_digest, PasswordReset.created_at > now - timedelta(hours=1)
        )
    )
    if recent >= current_app.config["PASSWORD_RESETS_PER_HOUR"]:
        # Silently, and for unknown addresses alike: saying "too many" would tell nothing new, but
        # answering differently would.
        security_event("password.reset_throttled", logging.WARNING)
        return
    usable = user is not None and user.password_hash is not None
    # Read now: after the commit it would cost a query, for known ones only.
    user_id = user.id if user is not None and usable else None
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    db.session.add(
        PasswordReset(
            token_hash=grants.digest(token),
            user_id=user_id,
            email_digest=email_digest,
            created_at=now,
            expires_at=now + timedelta(minutes=ttl),
        )
    )
    if usable:
        link = absolute_url("accounts.reset_link", token=token)
        body = (
            f"Someone asked to reset the password of your account.\n\nTo choose a new password, open this "
            f"link within {ttl} minutes:\n\n{link}\n\nIf it was not you, ignore this message: your password "
            f"stays as it is.\n"
        )
    else:
        body = (
            "Someone asked to reset the password of an account with this email address, but no account "
            f"here can sign in with it.\n\nIf it was you, perhaps you registered with another address; or "
            f"make an account: {absolute_url('accounts.register')}\n\nIf it was not you, ignore this message.\n"
        )
    mail.queue(email, "Reset your password", body)
    db.session.commit()
    security_event("password.reset_requested", user_id=user_id)


def _live(row: PasswordReset | None) -> PasswordReset:
    if row is None or row.user_id is None or row.used_at is not None or row.expires_at <= now_utc():
        raise RuleError(422, BAD_LINK, field="token")
    return row


def check_token(token: str) -> PasswordReset:
    return _live(
        db.session.scalar(
            sa.select(PasswordReset).where(PasswordReset.token_hash == grants.digest(token or ""))
        )
    )


def open_link(token: str) -> str:
    """The mailed link opened: a new random handle for the browser's session, bound to the row."""
    row = check_token(token)
    handle = secrets.token_urlsafe(32)
    row.handle_hash = grants.digest(handle)
    db.session.commit()
    return handle


def check_handle(handle: str | None) -> PasswordReset:
    if not handle:
        raise RuleError(422, BAD_LINK, field="token")
    return _live(
        db.session.scalar(sa.select(PasswordReset).where(PasswordReset.handle_hash == grants.digest(handle)))
    )


def complete_reset(row: PasswordReset, password: str) -> User:
    service.check_new_password(password)
    user = row.user
    if user is None:  # the row written for an unknown address: no link to it was ever mailed
        raise RuleError(422, BAD_LINK, field="token")
    # Two tabs racing with one link cannot both use it; using one ends all of the account's links.
    if not grants.claim(PasswordReset, PasswordReset.user_id == row.user_id):
        raise RuleError(422, BAD_LINK, field="token")
    service.set_password(user, password)
    db.session.commit()
    security_event("password.reset", user_id=user.id)
    return user


def complete_with_token(token: str, password: str) -> User:
    """The API's form: the token from the mail, sent in the body."""
    return complete_reset(check_token(token), password)
