"""Recovery codes: ten single-use codes that let an admin in without the phone.

Made when the authenticator is set up (and again on request), shown once, kept only as SHA-256
hashes: each code carries 60 random bits, so a fast hash is enough, and guesses are counted like
wrong authenticator codes (accounts/throttle.py). A new set replaces the old one; using a code mails
the admin, who is told how many are left.
"""

import logging
import re
import secrets

import sqlalchemy as sa
from flask import current_app

from directory import mail
from directory.accounts import grants
from directory.accounts.models import RecoveryCode, User
from directory.extensions import db
from directory.logs import security_event

# Crockford's base32: no I, L, O or U to misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LENGTH = 3, 4
SHAPE = re.compile(r"^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$")


def looks_like(code: str) -> bool:
    """A recovery code, not a six-digit authenticator code (told apart by shape alone)."""
    return bool(SHAPE.match(code.strip()))


def _normal(code: str) -> str:
    return code.strip().replace("-", "").upper()


def make(user: User) -> list[str]:
    """A new set of codes for `user`, replacing any earlier set (the action: one commit)."""
    codes = replace(user)
    db.session.commit()
    return codes


def replace(user: User) -> list[str]:
    """A new set of codes in the caller's transaction; returned once, never stored readable."""
    codes = [
        "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
        for _ in range(current_app.config["RECOVERY_CODE_COUNT"])
    ]
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=grants.digest(_normal(c))) for c in codes)
    security_event("mfa.recovery_codes_made", user_id=user.id)
    return codes


def remaining(user: User) -> int:
    unused = sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return db.session.scalar(unused) or 0


def use(user: User, code: str) -> bool:
    """True if `code` is one of the user's unused codes, which is then used up (once, even in a race),
    with the notice mail queued, both in the caller's transaction (a sign-in, a re-confirmation)."""
    # Looked up by its hash, as tokens are (grants.find); the claim refuses a used or raced one.
    mine = (RecoveryCode.user_id == user.id, RecoveryCode.code_hash == grants.digest(_normal(code)))
    if not grants.claim(RecoveryCode, *mine):
        return False
    left = remaining(user)
    mail.queue(
        user.email,
        "A recovery code was used",
        f"One of your recovery codes was just used to sign in instead of your authenticator. {left} are left."
        "\n\nIf it was not you, someone has your password and a code: tell the other admins now.\n",
    )
    security_event("mfa.recovery_code_used", logging.WARNING, user_id=user.id, left=left)
    return True
