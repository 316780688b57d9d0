"""Account rules: registration, sign-in throttled per account and address, password changes.

Each public action here commits once; its steps (`replace_password`, `set_password`, the grants they
end) write into the caller's transaction and leave the commit to it.
"""

import logging

import sqlalchemy as sa

from directory import mail
from directory.accounts import confirmation, devices, grants, throttle, totp
from directory.accounts.models import ApiToken, User
from directory.accounts.passwords import hash_password, verify_password, weakness
from directory.config import absolute_url
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

SELF_SERVICE_ROLES = ("client", "practitioner")
# The one answer to a registration, whether or not the email was taken (pages and API alike).
REGISTERED = (
    "Thank you. We have mailed a link to confirm the address: open it to finish. (If the address already "
    "has an account, we have mailed its owner instead.)"
)
WRONG_PASSWORD = "The email or password is wrong."  # noqa: S105  # nosec B105: a message, not a password


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_password(password: str) -> None:
    problem = weakness(password)
    if problem:
        raise RuleError(422, problem, field="password")


def register(email: str, password: str, role: str) -> User | None:
    """A new unconfirmed account with its confirmation mail queued; None when the email is taken, and
    then the owner is mailed instead. Both cost the same (a password hash, a queued mail) and the caller
    answers both the same way, so registering never tells whether an account exists."""
    if role not in SELF_SERVICE_ROLES:
        raise RuleError(422, "Choose client or practitioner.", field="role")
    check_new_password(password)
    email = normalise_email(email)
    password_hash = hash_password(password)
    user = _new_account(email, password_hash, role)
    if user is None:
        _mail_owner(email)
    else:
        confirmation.issue(user)
    db.session.commit()
    if user is None:
        security_event("account.register_taken", logging.WARNING)
    else:
        security_event("account.created", user_id=user.id, role=role)
    return user


def _new_account(email: str, password_hash: str, role: str) -> User | None:
    """The new account's row, flushed; None when the email is taken (the transaction then starts over)."""
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        return None
    user = User(
        email=email, password_hash=password_hash, role=role, registered_from=throttle.client_address()
    )
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same email registered at the same moment
        db.session.rollback()
        return None
    return user


def _mail_owner(email: str) -> None:
    mail.queue(
        email,
        "Someone tried to register with your address",
        "Someone tried to make a new account with this email address, which already has one. "
        "Nothing was changed.\n\nIf it was you, sign in instead, or ask for a password reset if you "
        f"have forgotten it: {absolute_url('accounts.reset_request')}\n",
    )


def create_admin(email: str, password: str) -> User:
    check_new_password(password)
    email = normalise_email(email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role="admin")
        db.session.add(user)
    user.role = "admin"
    user.password_hash = hash_password(password)
    # Made by an operator at the command line, who vouches for the address.
    user.email_confirmed_at = user.email_confirmed_at or now_utc()
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The user whose password this is; RuleError 401 (wrong) or 429 (throttled) otherwise. An unknown
    email costs the same time, is counted the same way and gets the same answers as a known one."""
    email = normalise_email(email)
    account = throttle.account_key(email)
    attempt = throttle.Attempt("password", account, throttle.client_address(), devices.nonce_for(account))
    throttle.refuse_password_if_throttled(attempt)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    # The hash is checked for unknown addresses too (against a dummy), so that timing tells nothing.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        throttle.record_failure(attempt)
        security_event(
            "sign_in.failure", logging.WARNING, user_id=user.id if user else None, reason="wrong password"
        )
        raise RuleError(401, WRONG_PASSWORD)
    security_event("sign_in.password_ok", user_id=user.id, role=user.role)
    return user


def issue_api_token(email: str, password: str, code: str | None) -> tuple[str, ApiToken]:
    """A bearer token for this password (and, for an account with an authenticator, this code)."""
    user = authenticate(email, password)
    mfa = user.totp_secret is not None
    if mfa:
        totp.check(user, code)
    token, row = grants.issue(ApiToken, user, mfa=mfa)
    db.session.commit()
    security_event("sign_in.success", user_id=user.id, role=user.role, channel="api", mfa=mfa)
    return token, row


def reconfirm(user: User, password: str, code: str | None, grant: grants.Grant) -> None:
    """Password and code proved again before a decision that needs a fresh sign-in, in one transaction."""
    authenticate(user.email, password)
    totp.check(user, code)
    grants.mark(grant, mfa=True, authenticated=True)
    db.session.commit()


def end_api_token(grant: ApiToken) -> None:
    grants.end_grant(grant)
    db.session.commit()
    security_event("sign_out", user_id=grant.user_id, channel="api")


def change_password(user: User, current: str, new: str) -> None:
    """Needs the current password; ends every session and token of the account (the API's form)."""
    replace_password(user, current, new)
    db.session.commit()
    security_event("password.changed", user_id=user.id)


def replace_password(user: User, current: str, new: str) -> None:
    """The step both password changes share (the page also starts a new session in the same
    transaction): the current password checked, the new one set, every grant ended. Does not commit."""
    try:
        authenticate(user.email, current)
    except RuleError as exc:
        if exc.status == 429:
            raise
        security_event("password.change_failure", logging.WARNING, user_id=user.id)
        raise RuleError(422, "Your current password is not right.", field="current_password") from exc
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    """The new password, and every session and token of the account ended, in the caller's transaction."""
    check_new_password(new)
    user.password_hash = hash_password(new)
    grants.end_all(user)


def sign_out_everywhere(user: User) -> int:
    ended = grants.end_all(user)
    db.session.commit()
    security_event("sign_out.everywhere", user_id=user.id, ended=ended)
    return ended
