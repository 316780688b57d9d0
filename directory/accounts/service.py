"""Account rules: registration, sign-in with per-account lockout, password changes."""

import logging

import sqlalchemy as sa

from directory.accounts import grants, lockout
from directory.accounts.models import User
from directory.accounts.passwords import hash_password, verify_password
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

MIN_PASSWORD = 10
SELF_SERVICE_ROLES = ("client", "practitioner")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RuleError(422, f"Use at least {MIN_PASSWORD} characters.", field="password")


def register(email: str, password: str, role: str) -> User:
    if role not in SELF_SERVICE_ROLES:
        raise RuleError(422, "Choose client or practitioner.", field="role")
    check_new_password(password)
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
    security_event("account.created", user_id=user.id, role=role)
    return user


def create_admin(email: str, password: str) -> User:
    check_new_password(password)
    email = normalise_email(email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role="admin")
        db.session.add(user)
    user.role = "admin"
    user.password_hash = hash_password(password)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The user whose password this is; RuleError 401 (wrong) or 429 (locked) otherwise."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        verify_password(None, password)
        security_event("sign_in.failure", logging.WARNING, reason="unknown account")
        raise RuleError(401, "The email or password is wrong.")
    lockout.refuse_if_locked(user)
    if not verify_password(user.password_hash, password):
        lockout.record_failure(user, now_utc())
        security_event("sign_in.failure", logging.WARNING, user_id=user.id, reason="wrong password")
        raise RuleError(401, "The email or password is wrong.")
    lockout.clear(user)
    security_event("sign_in.password_ok", user_id=user.id, role=user.role)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Needs the current password; ends every other session and token of the account."""
    lockout.refuse_if_locked(user)
    if not verify_password(user.password_hash, current):
        lockout.record_failure(user, now_utc())
        security_event("password.change_failure", logging.WARNING, user_id=user.id)
        raise RuleError(422, "Your current password is not right.", field="current_password")
    set_password(user, new)
    security_event("password.changed", user_id=user.id)


def set_password(user: User, new: str) -> None:
    """The new password, and every session and token of the account ended (the caller starts a new one)."""
    check_new_password(new)
    user.password_hash = hash_password(new)
    db.session.commit()
    lockout.clear(user)
    grants.end_all(user)


def sign_out_everywhere(user: User) -> int:
    ended = grants.end_all(user)
    security_event("sign_out.everywhere", user_id=user.id, ended=ended)
    return ended
