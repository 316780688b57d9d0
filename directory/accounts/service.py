"""Account rules: registration, sign-in with per-account lockout, API tokens, web sessions."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from directory.accounts.models import ApiToken, LoginFailure, User, WebSession
from directory.accounts.passwords import hash_password, verify_password
from directory.extensions import db
from directory.rules import RuleError
from directory.timeutil import now_utc

MIN_PASSWORD = 10
SELF_SERVICE_ROLES = ("client", "practitioner")


class RuleError(RuleError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RuleError(422, f"Use at least {MIN_PASSWORD} characters.", field="password")


def register(email: str, password: str, role: str) -> User:
    if role not in SELF_SERVICE_ROLES:
        raise RuleError(422, "Choose client or practitioner.", field="role")
    _check_password(password)
    email = normalise_email(email)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise RuleError(409, "An account with this email already exists.", field="email")
    user = User(email=email, password_hash=hash_password(password), role=role)
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # the same email registered at the same moment
        db.session.rollback()
        raise RuleError(409, "An account with this email already exists.", field="email") from exc
    return user


def create_admin(email: str, password: str) -> User:
    _check_password(password)
    email = normalise_email(email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role="admin")
        db.session.add(user)
    user.role = "admin"
    user.password_hash = hash_password(password)
    db.session.commit()
    return user


@dataclass
class Lockout:
    retry_after: int


def _lockout(user: User, now: datetime) -> Lockout | None:
    cfg = current_app.config
    window_start = now - timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"])
    recent = db.session.scalars(
        sa.select(LoginFailure.at)
        .where(LoginFailure.user_id == user.id, LoginFailure.at > window_start)
        .order_by(LoginFailure.at.desc())
        .limit(cfg["LOGIN_MAX_FAILURES"])
    ).all()
    if len(recent) < cfg["LOGIN_MAX_FAILURES"]:
        return None
    # Locked until the oldest of the last N failures leaves the window.
    unlock_at = recent[-1] + timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"])
    return Lockout(retry_after=max(1, int((unlock_at - now).total_seconds()) + 1))


def authenticate(email: str, password: str) -> User:
    """The user whose password this is; RuleError 401 (wrong) or 429 (locked) otherwise.

    Failures are rows in the database, so the lockout holds whichever worker serves the next try.
    """
    now = now_utc()
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        verify_password(None, password)
        raise RuleError(401, "The email or password is wrong.")
    lock = _lockout(user, now)
    if lock:
        raise RuleError(429, "Too many failed sign-ins. Try again later.", retry_after=lock.retry_after)
    if not verify_password(user.password_hash, password):
        db.session.add(LoginFailure(user_id=user.id, at=now))
        db.session.commit()
        raise RuleError(401, "The email or password is wrong.")
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.user_id == user.id))
    db.session.commit()
    return user


def issue_api_token(user: User) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_digest(token),
        user_id=user.id,
        expires_at=now_utc() + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"]),
    )
    db.session.add(row)
    db.session.commit()
    return token, row


def user_for_api_token(token: str) -> User | None:
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now_utc():
        return None
    return row.user


def start_web_session(user: User) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        WebSession(
            token_hash=token_digest(token),
            user_id=user.id,
            expires_at=now_utc() + timedelta(hours=current_app.config["WEB_SESSION_TTL_HOURS"]),
        )
    )
    db.session.commit()
    return token


def user_for_web_session(token: str) -> User | None:
    row = db.session.scalar(sa.select(WebSession).where(WebSession.token_hash == token_digest(token)))
    if row is None or row.ended_at is not None or row.expires_at <= now_utc():
        return None
    return row.user


def end_web_session(token: str) -> None:
    db.session.execute(
        sa.update(WebSession)
        .where(WebSession.token_hash == token_digest(token), WebSession.ended_at.is_(None))
        .values(ended_at=now_utc())
    )
    db.session.commit()
