"""Who is calling, and may they: bearer tokens for the API, the signed-in browser for pages.

Admins need their second factor on top of the password, on every admin page and admin API call
(`ADMIN_PREFIXES`, checked once for the whole app), and a fresh sign-in to verify or revoke.
"""

from functools import wraps
from typing import NoReturn

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user
from flask_smorest import abort

from directory.accounts import grants, sessions
from directory.accounts.models import ApiToken, User
from directory.extensions import login
from directory.logs import remember_identity
from directory.rules import RuleError

ENVIRON_KEY = "directory.api_grant"
ADMIN_PAGE_PREFIX = "/admin"
ADMIN_API_PREFIX = "/api/v1/admin"
# The decisions that change what the public trusts: they need a fresh sign-in.
FRESH_ACTIONS = ("verify", "revoke")
NEEDS_FRESH = "Verifying or revoking needs a fresh sign-in: prove your password and authenticator code again."


def current_api_grant() -> ApiToken | None:
    # Cached on the request itself, not on `g`: `g` belongs to the app context, which can outlive
    # a request (tests, CLI) and must never carry one caller's identity into another's request.
    if ENVIRON_KEY not in request.environ:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        found = grants.find(ApiToken, token.strip()) if scheme.lower() == "bearer" and token else None
        request.environ[ENVIRON_KEY] = found
        if found is not None:
            remember_identity(found.user.id, found.user.role)
    return request.environ[ENVIRON_KEY]


def current_api_user() -> User | None:
    grant = current_api_grant()
    return grant.user if grant is not None else None


def api_grant() -> ApiToken:
    """The caller's token, in a handler behind `api_login_required`."""
    grant = current_api_grant()
    if grant is None:
        _no_token()
    return grant


def api_user() -> User:
    """The caller, in a handler behind `api_login_required` (401 if somehow reached without a token)."""
    user = current_api_user()
    if user is None:
        _no_token()
    return user


def _no_token() -> NoReturn:
    abort(
        401,
        message="Sign in first: send Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": "Bearer"},
    )
    raise AssertionError("abort() raises")  # flask-smorest does not declare it NoReturn


def api_login_required(*roles: str):
    """Decorator: 401 without a valid token, 403 when the role is not one of `roles` (if given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_api_user()
            if user is None:
                _no_token()
            if roles and user.role not in roles:
                abort(403, message=f"This needs the {' or '.join(roles)} role.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def page_login_required(*roles: str):
    """The pages' twin of api_login_required: anonymous → the sign-in page (which brings them back
    through `next`), a signed-in user whose role is not one of `roles` (if given) → 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def require_fresh_sign_in() -> None:
    """For the decisions that change what the public trusts (verify, revoke): RuleError 403 unless the
    caller proved password and second factor within ADMIN_FRESH_MINUTES."""
    grant = current_api_grant() if request.headers.get("Authorization") else sessions.current_grant()
    if not grants.is_fresh(grant):
        raise RuleError(403, NEEDS_FRESH, denied=True)


def fresh_page_or_redirect(next_url: str):
    """The page form of require_fresh_sign_in: None if fresh, else a redirect to confirm and come back."""
    if grants.is_fresh(sessions.current_grant()):
        return None
    flash(NEEDS_FRESH, "info")
    return redirect(url_for("accounts.confirm", next=next_url))


def install_admin_gate(app: Flask) -> None:
    app.before_request(_admin_gate)


def _admin_gate():
    """Every admin page and admin API call, wherever its view is defined: an admin, with the second factor."""
    path = request.path
    if path.startswith(ADMIN_API_PREFIX + "/") or path == ADMIN_API_PREFIX:
        return _admin_api_gate()
    if path == ADMIN_PAGE_PREFIX or path.startswith(ADMIN_PAGE_PREFIX + "/"):
        return _admin_page_gate()
    return None


def _admin_api_gate():
    grant = current_api_grant()
    if grant is None:
        _no_token()
    if grant.user.role != "admin":
        abort(403, message="This needs the admin role.")
    if grant.mfa_at is None:
        abort(403, message="Admin work needs a token issued with your authenticator code (`totp`).")
    return None


def _admin_page_gate():
    if not current_user.is_authenticated:
        return login.unauthorized()
    if current_user.role != "admin":
        abort(403)
    grant = sessions.current_grant()
    if grant is None or grant.mfa_at is None:
        return redirect(url_for("accounts.second_factor", next=request.full_path.rstrip("?")))
    return None
