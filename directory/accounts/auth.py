"""API authentication: `Authorization: Bearer <token>` only, and role checks that say 401 or 403."""

from functools import wraps

from flask import g, request
from flask_smorest import abort

from directory.accounts import service
from directory.accounts.models import User


def current_api_user() -> User | None:
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        g.api_user = (
            service.user_for_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
        )
    return g.api_user


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
