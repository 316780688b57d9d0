"""Web sign-in through Flask-Login, backed by server-side session rows.

The cookie holds a random session token (User.get_id); signing out ends the row, so a copied
cookie stops working at once. The API never reads the cookie: it takes bearer tokens only (auth.py).
"""

from flask_login import LoginManager, login_user, logout_user

from directory.accounts import service
from directory.accounts.models import User


def configure(login: LoginManager) -> None:
    login.login_view = "accounts.login"
    login.login_message = "Please sign in to continue."
    login.login_message_category = "info"
    login.session_protection = "basic"
    login.user_loader(_load_user)


def _load_user(token: str) -> User | None:
    user = service.user_for_web_session(token)
    if user is not None:
        user.session_token = token
    return user


def sign_in(user: User) -> None:
    user.session_token = service.start_web_session(user)
    login_user(user)


def sign_out(user: User) -> None:
    if getattr(user, "session_token", None):
        service.end_web_session(user.session_token)
    logout_user()
