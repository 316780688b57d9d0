"""Web sign-in through Flask-Login, backed by server-side session rows (accounts/grants.py).

The cookie holds a random session token (User.get_id); signing out ends the row, so a copied
cookie stops working at once. The API never reads the cookie: it takes bearer tokens only (auth.py).
"""

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user, user_unauthorized

from directory.accounts import grants, service
from directory.accounts.models import User, WebSession
from directory.extensions import db
from directory.logs import denied, remember_identity, security_event

ENVIRON_KEY = "directory.web_grant"


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the page was served over https (directly or, with
    PROXY_FIX_HOPS, behind a proxy), not only when configured so: it never travels back over http."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def configure(app: Flask, login: LoginManager) -> None:
    app.session_interface = SessionInterface()
    login.login_view = "accounts.login"
    login.login_message = "Please sign in to continue."
    login.login_message_category = "info"
    login.session_protection = "basic"
    login.user_loader(_load_user)
    user_unauthorized.connect(_log_unauthorized, app)


def _log_unauthorized(sender: object, **extra: object) -> None:
    denied(401, "sign-in required")


def _load_user(token: str) -> User | None:
    grant = grants.find(WebSession, token)
    if grant is None:
        return None
    request.environ[ENVIRON_KEY] = grant
    user = grant.user
    user.session_token = token
    remember_identity(user.id, user.role)
    return user


def current_grant() -> WebSession | None:
    """This browser's live session row (after Flask-Login has loaded the user), or None."""
    if not current_user.is_authenticated:
        return None
    return request.environ.get(ENVIRON_KEY)


def signed_in_grant() -> WebSession:
    """This browser's session row on a page only a signed-in browser reaches."""
    grant = current_grant()
    if grant is None:
        raise RuntimeError("a signed-in page was reached without a session")
    return grant


def sign_in(user: User, mfa: bool = False) -> None:
    """A new session id at every sign-in: the old row (if this browser had one) ends, and the cookie's
    contents are dropped, so nothing set before signing in (fixation) survives it."""
    _start(user, mfa)
    db.session.commit()
    security_event("sign_in.success", user_id=user.id, role=user.role, channel="web")


def change_password(user: User, current: str, new: str) -> None:
    """The page's password change: every session and token of the account ends with it, and this
    browser carries on in a new session, all in one transaction."""
    service.replace_password(user, current, new)
    _start(user)
    db.session.commit()
    security_event("password.changed", user_id=user.id)
    security_event("sign_in.success", user_id=user.id, role=user.role, channel="web")


def _start(user: User, mfa: bool = False) -> None:
    """The new session, in the caller's transaction."""
    if current_user.is_authenticated and current_user.session_token:
        grants.end(WebSession, current_user.session_token)
    session.clear()
    token, grant = grants.issue(WebSession, user, mfa=mfa)
    request.environ[ENVIRON_KEY] = grant
    user.session_token = token
    login_user(user)
    remember_identity(user.id, user.role)


def sign_out(user: User) -> None:
    user_id, token = (
        user.id,
        user.session_token,
    )  # `user` may be the current_user proxy, anonymous after logout
    if token:
        grants.end(WebSession, token)
        db.session.commit()
    _leave(user_id)


def sign_out_everywhere(user: User) -> None:
    """Every session and token of the account ended, this browser's too (one commit, in the service)."""
    user_id = user.id
    service.sign_out_everywhere(user)
    _leave(user_id)


def _leave(user_id: int) -> None:
    logout_user()
    session.clear()
    security_event("sign_out", user_id=user_id)
