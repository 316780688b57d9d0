"""Throttling of password and authenticator-code guesses, in place of a lockout anyone could trigger.

Passwords. Failures are counted per account (the SHA-256 of the normalised email, so an unknown
account is counted and answered exactly like a known one), per address, and per pair. Each count
allows a few failures, then asks the next try to wait, doubling with each further failure
(`delay_for`). A browser that signed in to the account before carries a signed device cookie
(accounts/devices.py): its tries are held back only by failures made with that same cookie, so no
one elsewhere can keep the owner out.

Codes. Wrong authenticator or recovery codes are counted on their own, per account; a correct
password never clears them. CODE_MAX_FAILURES within the window stop every code check of the
account, whatever route the code came by, until the oldest of them leaves the window; the admin
is mailed when that happens.

Failure rows are written on a connection of their own and committed at once, by design: the failed
attempt is rolled back, its failure is not.
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from directory import mail
from directory.accounts.models import AuthFailure
from directory.extensions import db
from directory.logs import security_event
from directory.rules import RuleError
from directory.timeutil import now_utc

TOO_MANY = "Too many failed tries. Wait a little and try again."
TOO_MANY_CODES = "Too many wrong codes for this account. Try again later."


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def client_address() -> str:
    return (request.remote_addr or "-") if has_request_context() else "-"


@dataclass(frozen=True)
class Attempt:
    kind: str  # "password" or "code"
    account: str
    address: str
    device: str | None = None  # nonce of a valid known-browser cookie for this account


def delay_for(failures: int, free: int) -> int:
    """Seconds to wait after the latest of `failures`: none for the first `free`, then 1, 2, 4…"""
    if failures < free:
        return 0
    longest: int = current_app.config["THROTTLE_MAX_DELAY_SECONDS"]
    doubled: int = 2 ** (failures - free)
    return min(doubled, longest)


def _window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["THROTTLE_WINDOW_SECONDS"])


def _count(kind: str, now: datetime, *where: sa.ColumnElement[bool]) -> tuple[int, datetime | None]:
    row = db.session.execute(
        sa.select(sa.func.count(AuthFailure.id), sa.func.max(AuthFailure.at)).where(
            AuthFailure.kind == kind, AuthFailure.at > _window_start(now), *where
        )
    ).one()
    return row[0], row[1]


def _wait(count: int, latest: datetime | None, free: int, now: datetime) -> int:
    delay = delay_for(count, free)
    if not delay or latest is None:
        return 0
    return max(0, math.ceil((latest + timedelta(seconds=delay) - now).total_seconds()))


def password_wait(attempt: Attempt, now: datetime | None = None) -> int:
    """Seconds this password try must wait (0: go ahead)."""
    cfg = current_app.config
    now = now or now_utc()
    f = AuthFailure
    if attempt.device:
        # The owner's known browser: only failures made with this very cookie hold it back.
        counted = _count("password", now, f.account == attempt.account, f.device == attempt.device)
        return _wait(*counted, cfg["THROTTLE_FREE_DEVICE"], now)
    waits = (
        _wait(
            *_count("password", now, f.account == attempt.account, f.address == attempt.address),
            cfg["THROTTLE_FREE_PAIR"],
            now,
        ),
        _wait(*_count("password", now, f.address == attempt.address), cfg["THROTTLE_FREE_ADDRESS"], now),
        # Failures made through a known browser are not an attack from elsewhere.
        _wait(
            *_count("password", now, f.account == attempt.account, f.device.is_(None)),
            cfg["THROTTLE_FREE_ACCOUNT"],
            now,
        ),
    )
    return max(waits)


def refuse_password_if_throttled(attempt: Attempt) -> None:
    wait = password_wait(attempt)
    if wait:
        security_event("sign_in.throttled", logging.WARNING, retry_after=wait)
        raise RuleError(429, TOO_MANY, retry_after=wait)


def code_wait(account: str, now: datetime | None = None) -> int:
    """Seconds until this account's code check opens again (0: open)."""
    now = now or now_utc()
    limit = current_app.config["CODE_MAX_FAILURES"]
    times = db.session.scalars(
        sa.select(AuthFailure.at)
        .where(
            AuthFailure.kind == "code", AuthFailure.account == account, AuthFailure.at > _window_start(now)
        )
        .order_by(AuthFailure.at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    window = timedelta(seconds=current_app.config["THROTTLE_WINDOW_SECONDS"])
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def refuse_code_if_throttled(account: str, user_id: int | None = None) -> None:
    wait = code_wait(account)
    if wait:
        security_event("mfa.throttled", logging.WARNING, user_id=user_id, retry_after=wait)
        raise RuleError(429, TOO_MANY_CODES, retry_after=wait)


def record_failure(attempt: Attempt, alert_to: str | None = None) -> None:
    """One failure, committed on its own connection. For codes, the failure that closes the account's
    code check also queues a security mail to `alert_to`, in the same transaction."""
    now = now_utc()
    values = {
        "kind": attempt.kind,
        "account": attempt.account,
        "address": attempt.address[:45],
        "device": attempt.device,
        "at": now,
    }
    with db.engine.begin() as connection:
        connection.execute(sa.insert(AuthFailure).values(**values))
        if attempt.kind == "code" and alert_to:
            _alert_if_closed(connection, attempt, alert_to, now)


def _alert_if_closed(connection: sa.Connection, attempt: Attempt, to: str, now: datetime) -> None:
    limit = current_app.config["CODE_MAX_FAILURES"]
    count = connection.execute(
        sa.select(sa.func.count(AuthFailure.id)).where(
            AuthFailure.kind == "code",
            AuthFailure.account == attempt.account,
            AuthFailure.at > _window_start(now),
        )
    ).scalar_one()
    if count != limit:  # mail once, when the check closes, not at every try after
        return
    minutes = current_app.config["THROTTLE_WINDOW_SECONDS"] // 60
    mail.queue(
        to,
        "Wrong authenticator codes on your account",
        f"Someone entered {limit} wrong authenticator codes for your account in the last {minutes} minutes, "
        f"after giving its password. Codes are refused for now.\n\nIf it was not you, your password is known "
        f"to someone else: change it now, and tell the other admins.\n",
        connection=connection,
    )
    security_event("mfa.code_check_closed", logging.WARNING, failures=count)


def clear_codes(account: str) -> None:
    """A correct code (never a correct password) forgives the earlier wrong ones. Unlike a failure,
    the forgiving is part of the action the code was for: if that action rolls back, the wrong codes
    still count (and a connection of its own would wait behind the action's own writes)."""
    db.session.execute(
        sa.delete(AuthFailure).where(AuthFailure.kind == "code", AuthFailure.account == account)
    )
