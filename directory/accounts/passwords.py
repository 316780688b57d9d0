"""Argon2id hashing; parameters come from config so tests can make it cheap."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Checked against when the email is unknown, so that a miss costs as much time as a hit.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105  # nosec B105: hashed to time misses like hits, opens nothing


def _hasher() -> PasswordHasher:
    params = current_app.config["PASSWORD_HASH"]
    cached = current_app.extensions.get("directory_password_hasher")
    if cached is None or cached[0] != params:
        cached = (dict(params), PasswordHasher(**params))
        current_app.extensions["directory_password_hasher"] = cached
    return cached[1]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None:
        hasher.verify(_dummy_hash(), _DUMMY_PASSWORD)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    key = "directory_dummy_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = hash_password(_DUMMY_PASSWORD)
    hashed: str = current_app.extensions[key]
    return hashed


# ---- what a new password must be ----------------------------------------------------------------
MIN_LENGTH = 12


def _common_passwords() -> frozenset[str]:
    key = "directory_common_passwords"
    if key not in current_app.extensions:
        # zxcvbn ships its 30,000 most common leaked passwords with the package: no network, no file of ours.
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        current_app.extensions[key] = frozenset(FREQUENCY_LISTS["passwords"])
    common: frozenset[str] = current_app.extensions[key]
    return common


def weakness(password: str) -> str | None:
    """Why `password` may not be used, or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if not password.strip():
        return "A password of spaces alone is too easy to guess."
    if len(set(password)) == 1:
        return "A password of one repeated character is too easy to guess."
    if password.strip().lower() in _common_passwords():
        return "This password is on a list of common passwords that attackers try first; choose another."
    return None
