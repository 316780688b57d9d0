"""API authentication: `Authorization: Bearer <token>` only, and role checks that say 401 or 403."""

from functools import wraps

from flask import request
from flask_smorest import abort

from directory.accounts import service
from directory.accounts.models import User


def current_api_user() -> User | None:
    # Cached on the request itself, not on `g`: `g` belongs to the app context, which can outlive
    # a request (tests, CLI) and must never carry one caller's identity into another's request.
    if ENVIRON_KEY not in request.environ:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        found = service.user_for_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
        request.environ[ENVIRON_KEY] = found
    return request.environ[ENVIRON_KEY]


ENVIRON_KEY = "directory.api_user"


def api_login_required(*roles: str):
    """Decorator: 401 without a valid token, 403 when the role is not one of `roles` (if given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_api_user()
            if user is None:
                abort(
                    401,
                    message="Sign in first: send Authorization: Bearer <token>.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if roles and user.role not in roles:
                abort(403, message=f"This needs the {' or '.join(roles)} role.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
