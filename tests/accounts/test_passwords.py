"""Password change (page and API) and reset by mailed link."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from directory.accounts.models import ApiToken, PasswordReset, WebSession
from directory.extensions import db, mail
from directory.timeutil import now_utc
from tests.factories import PASSWORD, live_grants, signed_in

NEW = "a brand new passphrase"


def _signs_in(client, user, password) -> bool:
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": password})
    return response.status_code == 201


# -- change -------------------------------------------------------------------------------------------


def test_changing_the_password_on_the_page_signs_out_everything_else(app, client, factory):
    user = factory.user()
    browser, other_browser = signed_in(app, user), signed_in(app, user)
    headers = factory.headers(user)

    response = browser.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW})

    assert response.status_code == 302
    assert browser.get("/account/security").status_code == 200  # carries on, in a new session
    assert other_browser.get("/account/security").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (live_grants(WebSession, user), live_grants(ApiToken, user)) == (1, 0)
    assert _signs_in(client, user, NEW) and not _signs_in(client, user, PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current_password": "not my password", "new_password": NEW}, "current password is not right"),
        ({"current_password": PASSWORD, "new_password": "short"}, "Use at least 12 characters."),
        ({"current_password": "", "new_password": NEW}, "Length must be between 1 and 1000."),
        ({"current_password": PASSWORD, "new_password": "xy" * 501}, "Use at most 1000 characters."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, client, factory, data, message):
    user = factory.user()
    browser = signed_in(app, user)
    response = browser.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _signs_in(client, user, PASSWORD)
    assert browser.get("/account/security").status_code == 200


def test_changing_the_password_through_the_api_ends_every_token(client, factory):
    user = factory.user()
    headers, other = factory.headers(user), factory.headers(user)
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post("/api/v1/auth/password", json=body, headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert _signs_in(client, user, NEW)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"current_password": "wrong one here", "new_password": NEW}, 422, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, 422, "new_password"),
        ({"current_password": PASSWORD}, 422, "new_password"),
        ({"new_password": NEW}, 422, "current_password"),
        ({"current_password": PASSWORD, "new_password": NEW, "role": "admin"}, 422, "role"),
        ({"current_password": PASSWORD, "new_password": 12345678901}, 422, "new_password"),
    ],
)
def test_api_password_change_bad_input(client, factory, body, status, field):
    user = factory.user()
    response = client.post("/api/v1/auth/password", json=body, headers=factory.headers(user))
    assert response.status_code == status
    assert field in response.get_json()["errors"]
    assert factory.refresh(user).role == "client" and _signs_in(client, user, PASSWORD)


def test_password_change_needs_a_token(client):
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post("/api/v1/auth/password", json=body).status_code == 401


# -- reset --------------------------------------------------------------------------------------------


def _ask(client, email):
    with mail.record_messages() as outbox:
        response = client.post("/api/v1/auth/password-reset", json={"email": email})
    return response, outbox


def _link(message) -> str:
    return re.search(r"https?://\S+/password-reset/(\S+)", message.body).group(0)


def test_reset_by_mail_on_the_pages(app, client, factory):
    user = factory.user()
    headers, browser = factory.headers(user), signed_in(app, user)
    with mail.record_messages() as outbox:
        response = client.post("/password-reset", data={"email": user.email.upper()})
    assert response.status_code == 302
    assert len(outbox) == 1 and outbox[0].recipients == [user.email]
    link = _link(outbox[0])

    # The link names the configured site, never the Host the request came with.
    assert link.startswith("http://127.0.0.1:5000/password-reset/")
    landing = client.get(urlsplit(link).path)
    # The token leaves the address bar at once.
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/password-reset/new")
    assert client.get("/password-reset/new").status_code == 200
    done = client.post("/password-reset/new", data={"password": NEW})

    assert done.status_code == 302 and "/login" in done.headers["Location"]
    assert _signs_in(client, user, NEW) and not _signs_in(client, user, PASSWORD)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert browser.get("/account/security").status_code == 302
    # Used once, the link is dead.
    assert client.get(urlsplit(link).path).status_code == 422


def test_reset_by_mail_through_the_api(client, factory):
    user = factory.user()
    response, outbox = _ask(client, user.email)
    assert response.status_code == 202
    token = _link(outbox[0]).rsplit("/", 1)[1]
    body = {"token": token, "password": NEW}
    assert client.post("/api/v1/auth/password-reset/confirm", json=body).status_code == 204
    assert _signs_in(client, user, NEW)
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "another one!!"}
    )
    assert again.status_code == 422 and "token" in again.get_json()["errors"]


def test_asking_for_an_unknown_account_looks_the_same_and_mails_no_link(client, factory):
    known = factory.user()
    unknown_response, unknown_mail = _ask(client, "nobody@example.org")
    known_response, known_mail = _ask(client, known.email)
    assert unknown_response.status_code == known_response.status_code == 202
    assert unknown_response.get_json() == known_response.get_json()
    # The same work either way: one row, one mail; only the known account's mail holds a link.
    assert (len(unknown_mail), len(known_mail)) == (1, 1)
    assert "/password-reset/" not in unknown_mail[0].body and "no account" in unknown_mail[0].body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 2


def test_reset_mails_are_throttled_per_account_without_saying_so(client, factory):
    user = factory.user()
    sent = sum(len(_ask(client, user.email)[1]) for _ in range(5))
    assert sent == 3
    assert _ask(client, user.email)[0].status_code == 202


def test_an_expired_link_is_refused(client, factory):
    user = factory.user()
    token = _link(_ask(client, user.email)[1][0]).rsplit("/", 1)[1]
    db.session.execute(sa.update(PasswordReset).values(expires_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW})
    assert response.status_code == 422
    assert _signs_in(client, user, PASSWORD)


def test_the_token_is_stored_only_as_a_digest(client, factory):
    user = factory.user()
    token = _link(_ask(client, user.email)[1][0]).rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(PasswordReset.token_hash))
    assert token not in stored and len(stored) == 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": "made-up", "password": NEW}, "token"),
        ({"token": "", "password": NEW}, "token"),
        ({"password": NEW}, "token"),
        ({"token": "x" * 201, "password": NEW}, "token"),
        ({"token": "made-up", "password": "short"}, "password"),
        ({"token": "made-up"}, "password"),
        ({"token": "made-up", "password": NEW, "user_id": 1}, "user_id"),
    ],
)
def test_reset_confirm_bad_input(client, factory, body, field):
    factory.user()
    response = client.post("/api/v1/auth/password-reset/confirm", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "email"), ({"email": "not an email"}, "email"), ({"email": "a@b.org", "role": "admin"}, "role")],
)
def test_reset_request_bad_input(client, body, field):
    response = client.post("/api/v1/auth/password-reset", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_reset_pages_without_a_link_refuse(client):
    assert client.get("/password-reset/new").status_code == 422
    assert client.get("/password-reset/not-a-real-token").status_code == 422


def test_without_a_mail_server_the_message_lands_in_the_data_folder(app, client, factory):
    user = factory.user()
    _ask(client, user.email)
    files = list((Path(app.config["DATA_DIR"]) / "mail").glob("*.eml"))
    assert len(files) == 1 and "/password-reset/" in files[0].read_text()
    assert files[0].stat().st_mode & 0o077 == 0  # the link is a key to the account: private to the owner


# -- what a new password must be ------------------------------------------------------------------

WEAK = [
    ("elevenchars", "at least 12 characters"),
    (" " * 14, "spaces alone"),
    ("a" * 14, "one repeated character"),
    ("1qaz2wsx3edc", "common passwords"),
    ("QWERTY123456", "common passwords"),  # the list is checked whatever the case
    ("leavemealone", "common passwords"),
]


@pytest.mark.parametrize(("password", "why"), WEAK)
def test_weak_passwords_are_refused_everywhere_with_the_reason(app, client, factory, password, why):
    body = {"email": "weak@example.org", "password": password, "role": "client"}
    api = client.post("/api/v1/auth/register", json=body)
    assert api.status_code == 422 and why in api.get_json()["errors"]["password"][0]
    page = client.post("/register", data=body)
    assert page.status_code == 422 and why in page.get_data(as_text=True)
    user = factory.user()
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": password},
        headers=factory.headers(user),
    )
    assert changed.status_code == 422 and why in changed.get_json()["errors"]["new_password"][0]
    reset = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "made-up", "password": password}
    )
    assert reset.status_code == 422 and "password" in reset.get_json()["errors"]
    assert _signs_in(client, user, PASSWORD)


@pytest.mark.parametrize("password", ["twelve chars", "correct horse battery", "Ünïcödé pässwörd"])
def test_long_uncommon_passwords_are_taken(client, password):
    body = {"email": "strong@example.org", "password": password, "role": "client"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 202


def test_the_reset_token_never_enters_the_session_cookie(app, client, factory):
    user = factory.user()
    with mail.record_messages() as outbox:
        client.post("/password-reset", data={"email": user.email})
    link = _link(outbox[0])
    token = link.rsplit("/", 1)[1]
    landing = client.get(urlsplit(link).path)
    cookies = " ".join(landing.headers.getlist("Set-Cookie"))
    session_cookie = client.get_cookie("session")
    serializer = app.session_interface.get_signing_serializer(app)
    assert token not in cookies and token not in str(serializer.loads(session_cookie.value))
    assert client.post("/password-reset/new", data={"password": NEW}).status_code == 302
