import pytest
import sqlalchemy as sa

from directory.accounts.models import ApiToken, MailMessage, User
from directory.extensions import db
from tests.factories import PASSWORD

GOOD = {"email": "ada@example.org", "password": "long enough pw", "role": "client"}  # nosec B105
SAME_ANSWER = 202


def test_register_makes_an_unconfirmed_account_and_hashes_the_password(client):
    response = client.post("/api/v1/auth/register", json=GOOD)
    assert response.status_code == SAME_ANSWER
    assert "confirm" in response.get_json()["message"]
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.org"))
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash
    assert user.email_confirmed_at is None and user.registered_from == "127.0.0.1"


def test_a_taken_email_gets_the_same_answer_and_its_owner_is_mailed(client):
    first = client.post("/api/v1/auth/register", json=GOOD)
    again = client.post(
        "/api/v1/auth/register", json={**GOOD, "email": " ADA@example.org ", "role": "practitioner"}
    )
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    subjects = db.session.scalars(sa.select(MailMessage.subject).order_by(MailMessage.id)).all()
    assert subjects == ["Confirm your email address", "Someone tried to register with your address"]


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
        "email_confirmed": True,
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


def test_registrations_from_one_address_are_rate_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per hour").test_client()
    for n in range(2):
        body = {"email": f"r{n}@example.org", "password": "long enough pw", "role": "client"}
        assert client.post("/api/v1/auth/register", json=body).status_code == SAME_ANSWER
    blocked = client.post(
        "/api/v1/auth/register",
        json={"email": "r9@example.org", "password": "long enough pw", "role": "client"},
    )
    assert blocked.status_code == 429
    assert blocked.get_json()["code"] == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert client.post("/register", data={"email": "p@example.org"}).status_code == 429
