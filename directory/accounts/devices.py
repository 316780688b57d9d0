"""The known-browser ("device") cookie, as OWASP's guidance on blocking brute force describes it.

A browser that signs in successfully is given a cookie naming the account (its key, not the email)
and a random nonce, signed with the app's key. Later password tries from that browser are throttled
only by failures made with the same cookie (accounts/throttle.py), so an attacker elsewhere cannot keep
the owner out. A forged, altered or expired cookie, or one for another account, counts for nothing.
"""

import secrets

from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from directory.timeutil import now_utc

COOKIE = "directory_device"
SALT = "known-device"


class _Signer(TimestampSigner):
    """Stamps and ages cookies by the directory's clock (timeutil), not the library's own reading."""

    def get_timestamp(self) -> int:
        return int(now_utc().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_Signer)


def nonce_for(account: str) -> str | None:
    """The nonce of this request's device cookie if it is valid for `account`, else None."""
    raw = request.cookies.get(COOKIE) if has_request_context() else None
    if not raw:
        return None
    max_age = current_app.config["DEVICE_COOKIE_DAYS"] * 86400
    try:
        data = _serializer().loads(raw, max_age=max_age)
    except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
        return None
    if not isinstance(data, dict) or data.get("a") != account or not isinstance(data.get("n"), str):
        return None
    nonce: str = data["n"]
    return nonce[:64]


def remember(response: Response, account: str) -> None:
    """Give this browser a cookie for `account` (a fresh nonce at every successful sign-in)."""
    value = _serializer().dumps({"a": account, "n": secrets.token_hex(16)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400,
        httponly=True,
        secure=request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE", False),
        samesite="Lax",
    )
