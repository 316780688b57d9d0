"""Review invites: how a review comes to say "verified client".

A practitioner addresses an invite to a client's email; it is mailed there, and the practitioner never
sees its code. Only a confirmed account with that very email (made before or after the invite) can
redeem it, and not one registered from an address the practitioner signed in from in the last day
(their own second account, most likely). A practitioner has at most INVITES_OPEN_MAX unused invites
at once and makes at most INVITES_PER_MONTH in 30 days, and cannot invite their own email.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from directory import mail
from directory.accounts.models import ApiToken, User, WebSession
from directory.accounts.service import normalise_email
from directory.config import absolute_url
from directory.extensions import db
from directory.logs import security_event
from directory.practitioners import service as practitioners
from directory.practitioners.models import Practitioner
from directory.reviews.models import ReviewInvite
from directory.rules import RuleError
from directory.timeutil import now_utc

INVITE_DAYS = 30
SAME_PLACE_HOURS = 24
NOT_FOR_YOU = "This invite was sent to another email address, or is not one of this practitioner's."


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create(user: User, email: str) -> ReviewInvite:
    practitioner = practitioners.require_profile(user)
    email = normalise_email(email)
    if email == user.email:
        raise RuleError(422, "Invite your clients, not yourself.", field="email")
    _within_limits(practitioner)
    code = secrets.token_urlsafe(12)
    now = now_utc()
    invite = ReviewInvite(
        practitioner_id=practitioner.id,
        code_hash=digest(code),
        email=email,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
    )
    db.session.add(invite)
    link = absolute_url("practitioners.profile", practitioner_id=practitioner.id, invite=code) + "#reviews"
    mail.queue(
        email,
        f"{practitioner.display_name} asks for your review",
        f"{practitioner.display_name} invites you to review your visit on the practitioner directory.\n\n"
        f"Open this link within {INVITE_DAYS} days and sign in (or make an account) with this email "
        f"address: your review will show as from a verified client.\n\n{link}\n\n"
        "If you have never visited this practitioner, ignore this message.\n",
    )
    db.session.commit()
    security_event("review.invite_sent", user_id=user.id, practitioner_id=practitioner.id)
    return invite


def _within_limits(practitioner: Practitioner) -> None:
    cfg, now = current_app.config, now_utc()
    mine = ReviewInvite.practitioner_id == practitioner.id
    open_now = db.session.scalar(
        sa.select(sa.func.count(ReviewInvite.id)).where(
            mine, ReviewInvite.used_at.is_(None), ReviewInvite.expires_at > now
        )
    )
    if open_now >= cfg["INVITES_OPEN_MAX"]:
        raise RuleError(
            429,
            f"You have {open_now} unused invites; at most {cfg['INVITES_OPEN_MAX']} may be open at once.",
            retry_after=3600,
        )
    month = db.session.scalars(
        sa.select(ReviewInvite.created_at)
        .where(mine, ReviewInvite.created_at > now - timedelta(days=30))
        .order_by(ReviewInvite.created_at)
    ).all()
    if len(month) >= cfg["INVITES_PER_MONTH"]:
        retry = int((month[0] + timedelta(days=30) - now).total_seconds()) + 1
        raise RuleError(
            429, f"At most {cfg['INVITES_PER_MONTH']} invites in 30 days.", retry_after=max(retry, 1)
        )


def of(user: User) -> list[ReviewInvite]:
    practitioner = practitioners.require_profile(user)
    return list(
        db.session.scalars(
            sa.select(ReviewInvite)
            .where(ReviewInvite.practitioner_id == practitioner.id)
            .order_by(ReviewInvite.id.desc())
        )
    )


def redeem(code: str | None, practitioner: Practitioner, user: User) -> ReviewInvite | None:
    """The invite `user` redeems with this review (marked used in the caller's transaction), or None."""
    if not code:
        return None
    invite = db.session.scalar(sa.select(ReviewInvite).where(ReviewInvite.code_hash == digest(code.strip())))
    problem = None
    if invite is None or invite.practitioner_id != practitioner.id or invite.email != user.email:
        problem = NOT_FOR_YOU
    elif invite.used_at is not None:
        problem = "This invite code has been used already."
    elif invite.expires_at <= now_utc():
        problem = "This invite code has expired."
    elif _registered_where_practitioner_signs_in(user, practitioner):
        security_event(
            "review.invite_same_place", logging.WARNING, user_id=user.id, practitioner_id=practitioner.id
        )
        problem = "This invite cannot be used from an account made where the practitioner signs in."
    if problem or invite is None:
        raise RuleError(422, problem or NOT_FOR_YOU, field="invite_code")
    invite.used_at = now_utc()
    return invite


def _registered_where_practitioner_signs_in(user: User, practitioner: Practitioner) -> bool:
    if not user.registered_from:
        return False
    since = now_utc() - timedelta(hours=SAME_PLACE_HOURS)
    for kind in (WebSession, ApiToken):
        seen = db.session.scalar(
            sa.select(kind.id)
            .where(
                kind.user_id == practitioner.user_id,
                kind.address == user.registered_from,
                sa.or_(kind.created_at > since, kind.last_seen_at > since),
            )
            .limit(1)
        )
        if seen is not None:
            return True
    return False
