"""Authenticator (TOTP, RFC 6238) second factor for admins, through pyotp.

Enrolment keeps the new secret aside (`totp_pending`) until a first valid code proves the
authenticator holds it. A code is accepted one step either side of now (clock drift) and only once:
the step it matched is stored, so a code seen over someone's shoulder cannot be replayed.

Every code check, whatever route it came by (sign-in page, token, step-up confirmation, enrolment),
goes through `_guarded`: refused while the account's code check is closed, and each wrong code counted
on its own (accounts/throttle.py). A recovery code (accounts/recovery_codes.py) is accepted wherever an
authenticator code is.

`check` is a step of a larger action (a sign-in, a re-confirmation) and leaves the commit to it; the
actions here (`finish_enrolment`, `pass_code`) commit once, grant and codes included.
"""

import hmac
import logging
from collections.abc import Callable
from typing import TypeVar

import pyotp
import segno
from flask import current_app

from directory.accounts import grants, recovery_codes, throttle
from directory.accounts.grants import Grant
from directory.accounts.models import User
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

T = TypeVar("T")


def start_enrolment(user: User) -> str:
    """A fresh secret for `user` to add to an authenticator; replaces any unfinished enrolment."""
    if user.totp_secret:
        raise RuleError(409, "A second factor is already set up for this account.")
    user.totp_pending = pyotp.random_base32()
    db.session.commit()
    return user.totp_pending


def provisioning_uri(user: User) -> str:
    secret = user.totp_pending or user.totp_secret
    if secret is None:
        raise RuleError(409, "Start setting up the authenticator first.")
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg_data_uri(user: User) -> str:
    """The enrolment QR code as an SVG data URI: no image library, no inline script, allowed by the CSP."""
    return segno.make(provisioning_uri(user), error="m").svg_data_uri(scale=4)


def finish_enrolment(user: User, code: str, grant: Grant | None = None, recovery: bool = False) -> list[str]:
    """The pending secret proved by its first code and kept; `grant` (the caller's session or token)
    counts as having passed the second factor, and with `recovery` the first recovery codes are made
    (returned, shown once). One transaction: a failure at any step keeps none of them."""
    pending = user.totp_pending
    if not pending:
        raise RuleError(409, "Start setting up the authenticator first.")
    step = _guarded(user, lambda: _matching_step(pending, code))
    user.totp_secret, user.totp_pending = pending, None
    user.totp_last_step = step
    if grant is not None:
        grants.mark(grant, mfa=True)
    codes = recovery_codes.replace(user) if recovery else []
    db.session.commit()
    security_event("mfa.enrolled", user_id=user.id)
    return codes


def pass_code(user: User, code: str | None, grant: Grant) -> None:
    """The second factor at sign-in: the code checked and the grant marked, in one transaction."""
    check(user, code)
    grants.mark(grant, mfa=True)
    db.session.commit()


def check(user: User, code: str | None) -> None:
    """Pass, or RuleError: 401 for a missing or wrong code, 429 while the account's code check is closed.
    A step of the caller's action: the used step (or recovery code) is written, not committed."""
    secret = user.totp_secret
    if not secret:
        raise RuleError(403, "Set up an authenticator first.", field="totp")
    code = code or ""
    if recovery_codes.looks_like(code):
        _guarded(user, lambda: recovery_codes.use(user, code) or None)
        return

    def fresh_step() -> int | None:
        step = _matching_step(secret, code)
        return (
            None
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step)
            else step
        )

    user.totp_last_step = _guarded(user, fresh_step)
    security_event("mfa.passed", user_id=user.id)


def reset(user: User) -> None:
    """Operators only (a lost phone): the admin enrols again at the next sign-in."""
    user.totp_secret = user.totp_pending = user.totp_last_step = None
    db.session.commit()
    security_event("mfa.reset", user_id=user.id)


def _guarded(user: User, matches: Callable[[], T | None]) -> T:
    """`matches()` (None for a wrong code), unless the account's code check is closed; a wrong code is
    counted, and the one that closes the check mails the account's owner."""
    account = throttle.account_key(user.email)
    throttle.refuse_code_if_throttled(account, user.id)
    result = matches()
    if result is None:
        attempt = throttle.Attempt("code", account, throttle.client_address())
        throttle.record_failure(attempt, alert_to=user.email)
        security_event("mfa.failure", logging.WARNING, user_id=user.id)
        raise RuleError(401, WRONG_CODE, field="totp")
    throttle.clear_codes(account)
    return result


WRONG_CODE = "That code is not right. Use the current code from your authenticator."


def _matching_step(secret: str, code: str) -> int | None:
    code = code.strip().replace(" ", "")
    # ASCII only: str.isdigit() also takes "１２３４５６" and "١٢٣٤٥٦", which compare_digest cannot compare.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(now_utc().timestamp())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return at // totp.interval
    return None
