import pytest
import sqlalchemy as sa

from directory.accounts.models import ApiToken, LoginFailure, User
from directory.extensions import db
from tests.factories import PASSWORD

GOOD = {"email": "ada@example.org", "password": "long enough pw", "role": "client"}


def test_register_returns_the_account_and_hashes_the_password(client):
    response = client.post("/api/v1/auth/register", json=GOOD)
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "email": "ada@example.org", "role": "client"}
    user = db.session.get(User, body["id"])
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash


def test_register_twice_is_a_conflict_whatever_the_case(client):
    assert client.post("/api/v1/auth/register", json=GOOD).status_code == 201
    again = client.post("/api/v1/auth/register", json={**GOOD, "email": " ADA@example.org "})
    assert again.status_code == 409
    assert "email" in again.get_json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "role": "admin"}, "role"),
        ({**GOOD, "role": "superuser"}, "role"),
        ({**GOOD, "password": "short"}, "password"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "email": 42}, "email"),
        ({**GOOD, "email": "a" * 250 + "@example.org"}, "email"),
        ({"password": "long enough pw", "role": "client"}, "email"),
        ({"email": "x@example.org", "role": "client"}, "password"),
        ({"email": "x@example.org", "password": "long enough pw"}, "role"),
        ({**GOOD, "id": 7}, "id"),
        ({**GOOD, "is_admin": True}, "is_admin"),
        ({**GOOD, "password": ["long enough pw"]}, "password"),
    ],
)
def test_register_bad_input_names_the_field(client, body, field):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["code"] == 422
    assert field in payload["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("raw", ["", "[]", "null", '"text"', "{", "{'single': 'quotes'}"])
def test_register_malformed_body(client, raw):
    response = client.post("/api/v1/auth/register", data=raw, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] == response.status_code


def test_token_grants_access_and_is_stored_hashed(client, factory):
    user = factory.user("practitioner")
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert response.get_json()["expires_at"]
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "id": user.id,
        "email": user.email,
        "role": "practitioner",
        "practitioner_id": None,
    }


def test_me_shows_the_practitioner_id_once_there_is_a_profile(client, factory):
    practitioner = factory.practitioner()
    me = client.get("/api/v1/me", headers=factory.headers(practitioner.user)).get_json()
    assert me["practitioner_id"] == practitioner.id


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Bearer nope", "Basic dXNlcjpwYXNz", "Token abc", "bearer " + "x" * 5000],
)
def test_me_without_a_valid_token_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.get_json()["code"] == 401


def test_an_expired_token_stops_working(client, factory):
    user = factory.user()
    headers = factory.headers(user)
    row = db.session.scalar(sa.select(ApiToken))
    row.expires_at = row.created_at
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_session_cookie_does_not_authenticate_the_api(client, factory):
    user = factory.user()
    factory.login(user)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nobody@example.org", "password": "whatever you like"},
        {"email": "client-wrong@example.org", "password": "wrong password!"},
    ],
)
def test_wrong_credentials_are_401(client, factory, body):
    factory.user(email="client-wrong@example.org")
    response = client.post("/api/v1/auth/tokens", json=body)
    assert response.status_code == 401
    assert response.get_json()["message"] == "The email or password is wrong."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "email"),
        ({"email": "a@b.c"}, "password"),
        ({"email": "a@b.c", "password": "x", "role": "admin"}, "role"),
        ({"email": "", "password": "x"}, "email"),
        ({"email": None, "password": "x"}, "email"),
    ],
)
def test_token_bad_input(client, body, field):
    response = client.post("/api/v1/auth/tokens", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_ten_failures_lock_the_account_for_every_worker(make_app, factory):
    user = factory.user()
    worker_a = make_app().test_client()
    worker_b = make_app().test_client()
    for attempt in range(10):
        worker = worker_a if attempt % 2 else worker_b
        wrong = worker.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong guess"})
        assert wrong.status_code == 401
    # Locked now, even with the right password, and on the other worker too.
    for worker in (worker_a, worker_b):
        locked = worker.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
        assert locked.get_json()["code"] == 429


def test_failures_older_than_the_window_do_not_count(client, factory):
    from datetime import timedelta

    from directory.timeutil import now_utc

    user = factory.user()
    old = now_utc() - timedelta(minutes=16)
    db.session.add_all([LoginFailure(user_id=user.id, at=old) for _ in range(10)])
    db.session.commit()
    ok = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 201


def test_registrations_from_one_address_are_rate_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per hour").test_client()
    for n in range(2):
        body = {"email": f"r{n}@example.org", "password": "long enough pw", "role": "client"}
        assert client.post("/api/v1/auth/register", json=body).status_code == 201
    blocked = client.post(
        "/api/v1/auth/register",
        json={"email": "r9@example.org", "password": "long enough pw", "role": "client"},
    )
    assert blocked.status_code == 429
    assert blocked.get_json()["code"] == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert client.post("/register", data={"email": "p@example.org"}).status_code == 429
