import re

import pytest
import sqlalchemy as sa

from directory.accounts.models import User, WebSession
from directory.extensions import db
from tests.factories import PASSWORD


def test_register_page_creates_an_account_and_sends_to_sign_in(client):
    assert client.get("/register").status_code == 200
    response = client.post(
        "/register", data={"email": "pat@example.org", "password": "long enough pw", "role": "practitioner"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "mailed a link to confirm" in client.get("/login").get_data(as_text=True)
    assert db.session.scalar(sa.select(User.role).where(User.email == "pat@example.org")) == "practitioner"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "pat@example.org", "password": "short", "role": "client"}, "Use at least 12 characters."),
        (
            {"email": "not-an-email", "password": "long enough pw", "role": "client"},
            "Not a valid email address",
        ),
        (
            {"email": "pat@example.org", "password": "long enough pw", "role": "admin"},
            "Choose client or practitioner",
        ),
        ({"email": "", "password": "long enough pw", "role": "client"}, "Not a valid email address"),
    ],
)
def test_register_page_shows_what_is_wrong(client, data, message):
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_register_page_answers_a_taken_email_like_a_new_one(app, factory):
    user = factory.user()

    def register(email):
        browser = app.test_client()
        response = browser.post(
            "/register", data={"email": email, "password": "long enough pw", "role": "client"}
        )
        flashed = re.findall(
            r'class="flash[^"]*"[^>]*>([^<]+)<', browser.get("/login").get_data(as_text=True)
        )
        return response.status_code, response.headers["Location"], flashed

    new, taken = register("new@example.org"), register(user.email)
    assert new == taken and new[2]


def test_login_wrong_password_then_right(client, factory):
    user = factory.user()
    wrong = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert wrong.status_code == 401
    assert "The email or password is wrong." in wrong.get_data(as_text=True)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_login_page_throttling_says_429_with_retry_after(client, factory):
    user = factory.user()
    for _ in range(3):
        client.post("/login", data={"email": user.email, "password": "wrong password"})
    held = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert held.status_code == 429
    assert int(held.headers["Retry-After"]) > 0
    assert "Too many failed tries" in held.get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(client, factory, target):
    user = factory.user()
    response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]


def test_login_follows_a_local_next(client, factory):
    user = factory.user("practitioner")
    response = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_sign_out_ends_the_session_on_the_server(app, client, factory):
    user = factory.user("practitioner")
    factory.login(user)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.post("/logout").status_code == 302
    assert db.session.scalar(sa.select(WebSession.ended_at)) is not None

    # Someone who copied the cookie before sign-out gets nothing with it.
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    response = thief.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_pages_need_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forms_carry_and_require_csrf_tokens(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    without = client.post(
        "/register", data={"email": "a@example.org", "password": "long enough pw", "role": "client"}
    )
    assert without.status_code == 400
    with_token = client.post(
        "/register",
        data={"email": "a@example.org", "password": "long enough pw", "role": "client", "csrf_token": token},
    )
    assert with_token.status_code == 302
    login_token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    signed_in = client.post(
        "/login", data={"email": "a@example.org", "password": "long enough pw", "csrf_token": login_token}
    )
    assert signed_in.status_code == 302
    # Sign-out is a form too: without the token it does nothing.
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_the_api_needs_no_csrf_token(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "b@example.org", "password": "long enough pw", "role": "client"},
    )
    assert response.status_code == 202
