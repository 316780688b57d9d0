"""Authenticator (TOTP, RFC 6238) second factor for admins, through pyotp.

Enrolment keeps the new secret aside (`totp_pending`) until a first valid code proves the
authenticator holds it. A code is accepted one step either side of now (clock drift) and only once:
the step it matched is stored, so a code seen over someone's shoulder cannot be replayed.
Wrong codes count towards the same per-account lockout as wrong passwords.
"""

import hmac
import logging
import time

import pyotp
import segno
from flask import current_app

from directory.accounts import lockout
from directory.accounts.models import User
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc


def start_enrolment(user: User) -> str:
    """A fresh secret for `user` to add to an authenticator; replaces any unfinished enrolment."""
    if user.totp_secret:
        raise RuleError(409, "A second factor is already set up for this account.")
    user.totp_pending = pyotp.random_base32()
    db.session.commit()
    return user.totp_pending


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_pending or user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TOTP_ISSUER"]
    )


def qr_svg_data_uri(user: User) -> str:
    """The enrolment QR code as an SVG data URI: no image library, no inline script, allowed by the CSP."""
    return segno.make(provisioning_uri(user), error="m").svg_data_uri(scale=4)


def finish_enrolment(user: User, code: str) -> None:
    if not user.totp_pending:
        raise RuleError(409, "Start setting up the authenticator first.")
    if _matching_step(user.totp_pending, code) is None:
        _failed(user)
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.totp_last_step = _matching_step(user.totp_secret, code)
    db.session.commit()
    security_event("mfa.enrolled", user_id=user.id)


def check(user: User, code: str | None) -> None:
    """Pass, or RuleError: 401 for a missing or wrong code, 429 while the account is locked."""
    lockout.refuse_if_locked(user)
    if not user.totp_secret:
        raise RuleError(403, "Set up an authenticator first.", field="totp")
    step = _matching_step(user.totp_secret, code or "")
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        _failed(user)
    user.totp_last_step = step
    db.session.commit()
    security_event("mfa.passed", user_id=user.id)


def reset(user: User) -> None:
    """Operators only (a lost phone): the admin enrols again at the next sign-in."""
    user.totp_secret = user.totp_pending = user.totp_last_step = None
    db.session.commit()
    security_event("mfa.reset", user_id=user.id)


def _failed(user: User):
    lockout.record_failure(user, now_utc())
    security_event("mfa.failure", logging.WARNING, user_id=user.id)
    raise RuleError(
        401, "That code is not right. Use the current code from your authenticator.", field="totp"
    )


def _matching_step(secret: str, code: str) -> int | None:
    code = code.strip().replace(" ", "")
    # ASCII only: str.isdigit() also takes "１２３４５６" and "١٢٣٤٥٦", which compare_digest cannot compare.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return at // totp.interval
    return None
