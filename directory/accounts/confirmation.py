"""Email confirmation: a one-use link mailed to every new account.

Until the link is used the account can sign in, but cannot review, redeem an invite, or be listed in
search (`require_confirmed`, and search/facts.py lists confirmed practitioners only). Accounts made
before this rule and demo accounts count as confirmed. The token is kept only as its SHA-256; the
link names the address it was sent to, so a changed email cannot be confirmed by an old link.
"""

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from directory import mail
from directory.accounts import grants
from directory.accounts.models import EmailConfirmation, User
from directory.config import absolute_url
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

BAD_LINK = "This confirmation link is not valid any more. Sign in and ask for a new one."
NEEDS_CONFIRMED = "Confirm your email address first: open the link we mailed you (or ask for a new one)."


def issue(user: User) -> None:
    """A new link for `user`, queued in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    ttl = current_app.config["EMAIL_CONFIRMATION_TTL_HOURS"]
    db.session.add(
        EmailConfirmation(
            token_hash=grants.digest(token),
            user=user,
            email=user.email,
            created_at=now,
            expires_at=now + timedelta(hours=ttl),
        )
    )
    link = absolute_url("accounts.confirm_email", token=token)
    mail.queue(
        user.email,
        "Confirm your email address",
        f"Welcome to the practitioner directory.\n\nTo confirm that this address is yours, open this link "
        f"within {ttl} hours:\n\n{link}\n\nIf you did not make an account, ignore this message.\n",
    )


def resend(user: User) -> None:
    if user.email_confirmed_at is not None:
        raise RuleError(409, "Your email address is confirmed already.")
    limit = current_app.config["EMAIL_CONFIRMATIONS_PER_HOUR"]
    since = now_utc() - timedelta(hours=1)
    recent = db.session.scalar(
        sa.select(sa.func.count(EmailConfirmation.id)).where(
            EmailConfirmation.user_id == user.id, EmailConfirmation.created_at > since
        )
    )
    if recent >= limit:
        raise RuleError(
            429, f"At most {limit} confirmation mails an hour; try again later.", retry_after=3600
        )
    issue(user)
    db.session.commit()


def confirm(token: str) -> User:
    row = db.session.scalar(
        sa.select(EmailConfirmation).where(EmailConfirmation.token_hash == grants.digest(token or ""))
    )
    if row is None or row.expires_at <= now_utc() or row.email != row.user.email:
        raise RuleError(422, BAD_LINK, field="token")
    # Used once: a second click, or two at once, finds it claimed.
    if not grants.claim(EmailConfirmation, EmailConfirmation.id == row.id):
        raise RuleError(422, BAD_LINK, field="token")
    user = row.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now_utc()
        if user.practitioner is not None:
            # Now listed: search hears of it through the outbox like any profile change.
            from directory.search import outbox

            outbox.touch(db.session, [user.practitioner.id])
    db.session.commit()
    security_event("account.email_confirmed", logging.INFO, user_id=user.id)
    return user


def require_confirmed(user: User) -> None:
    if user.email_confirmed_at is None:
        raise RuleError(403, NEEDS_CONFIRMED)
