"""Admins: an authenticator (TOTP) for every admin page and admin API call, and a fresh sign-in
(password and code within 15 minutes) to verify or revoke."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.accounts import service as accounts
from directory.accounts.models import ApiToken, User, WebSession
from directory.credentials.models import Credential
from directory.extensions import db
from directory.timeutil import now_utc
from tests.factories import PASSWORD, PNG, authenticator_code, signed_in, submission, totp_code

QUEUE_API = "/api/v1/admin/credentials"


def _bare_admin(email="boss@example.org"):
    """An admin as `create-admin` leaves them: no authenticator yet."""
    return accounts.create_admin(email, PASSWORD)


def _password_only(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _code(user) -> str:
    user = db.session.get(User, user.id)
    return authenticator_code(user.totp_pending or user.totp_secret)


# -- pages ---------------------------------------------------------------------------------------------


def test_a_new_admin_sets_up_the_authenticator_at_first_sign_in(app):
    admin = _bare_admin()
    client = app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert "/account/two-factor" in response.headers["Location"]
    assert client.get("/admin").status_code == 302  # not before the code

    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    assert db.session.get(User, admin.id).totp_pending in page

    wrong = client.post(
        "/account/two-factor", data={"totp": "000000" if _code(admin) != "000000" else "111111"}
    )
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"totp": _code(admin)})
    # The recovery codes, shown this once, before going on.
    assert done.status_code == 200 and "shown only now" in done.get_data(as_text=True)
    assert (
        len(re.findall(r"<code>[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}</code>", done.get_data(as_text=True)))
        == 10
    )

    assert client.get("/admin").status_code == 200
    assert db.session.get(User, admin.id).totp_secret is not None


def test_each_sign_in_asks_for_the_code_again(app, factory):
    admin = factory.user("admin")
    client = _password_only(app, admin)
    for path in ("/admin", "/admin/credentials", "/admin/audit", "/admin/reviews", "/admin/rosters"):
        response = client.get(path)
        assert response.status_code == 302 and "/account/two-factor" in response.headers["Location"], path
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "data:image/svg+xml" not in page  # enrolled: only the code is asked
    assert client.post("/account/two-factor", data={"totp": totp_code(admin)}).status_code == 302
    assert client.get("/admin/credentials").status_code == 200


def test_a_code_works_once(app, factory):
    admin = factory.user("admin")
    code = totp_code(admin)
    first = _password_only(app, admin)
    assert first.post("/account/two-factor", data={"totp": code}).status_code == 302
    second = _password_only(app, admin)
    assert second.post("/account/two-factor", data={"totp": code}).status_code == 401


def test_five_wrong_codes_close_the_code_check(app, factory):
    admin = factory.user("admin")
    client = _password_only(app, admin)
    right = totp_code(admin)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post("/account/two-factor", data={"totp": wrong}).status_code == 401
    locked = client.post("/account/two-factor", data={"totp": right})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize("role", ["client", "practitioner"])
def test_only_admins_have_the_authenticator_pages(app, factory, role):
    client = signed_in(app, factory.user(role))
    assert client.get("/account/two-factor").status_code == 403
    assert client.get("/account/confirm").status_code == 403
    assert client.get("/admin").status_code == 403


# -- API -----------------------------------------------------------------------------------------------


def test_an_admin_token_needs_the_code(client, factory):
    admin = factory.user("admin")
    without = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD})
    assert without.status_code == 401 and "totp" in without.get_json()["errors"]
    body = {"email": admin.email, "password": PASSWORD, "totp": totp_code(admin)}
    token = client.post("/api/v1/auth/tokens", json=body).get_json()["token"]
    assert client.get(QUEUE_API, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_admin_without_an_authenticator_enrols_through_the_api(client):
    admin = _bare_admin()
    token = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.get(QUEUE_API, headers=headers)
    assert refused.status_code == 403 and "totp" in refused.get_json()["message"]

    started = client.post("/api/v1/auth/totp", headers=headers)
    assert started.status_code == 201
    secret = started.get_json()["secret"]
    assert started.get_json()["otpauth_uri"].startswith("otpauth://totp/")
    confirm = client.post(
        "/api/v1/auth/totp/confirm", json={"totp": authenticator_code(secret)}, headers=headers
    )
    assert confirm.status_code == 204

    assert client.get(QUEUE_API, headers=headers).status_code == 200
    assert client.post("/api/v1/auth/totp", headers=headers).status_code == 409  # already set up


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "totp"),
        ({"totp": ""}, "totp"),
        ({"totp": "12345"}, "totp"),
        ({"totp": "1234567"}, "totp"),
        ({"totp": "abcdef"}, "totp"),
        ({"totp": 123456}, "totp"),
        ({"totp": "123456", "secret": "AAAA"}, "secret"),
    ],
)
def test_totp_confirm_bad_input(client, body, field):
    admin = _bare_admin()
    token = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/auth/totp", headers=headers)
    response = client.post("/api/v1/auth/totp/confirm", json=body, headers=headers)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert db.session.get(User, admin.id).totp_secret is None


@pytest.mark.parametrize("role", ["client", "practitioner"])
def test_only_admins_enrol(client, factory, role):
    headers = factory.headers(factory.user(role))
    assert client.post("/api/v1/auth/totp", headers=headers).status_code == 403
    assert (
        client.post("/api/v1/auth/totp/confirm", json={"totp": "123456"}, headers=headers).status_code == 403
    )


def test_reset_two_factor_command(runner, factory):
    admin = factory.user("admin")
    result = runner.invoke(args=["directory", "reset-two-factor", "--email", admin.email])
    assert result.exit_code == 0, result.output
    assert factory.refresh(admin).totp_secret is None
    assert runner.invoke(args=["directory", "reset-two-factor", "--email", "no@example.org"]).exit_code == 1


# -- fresh sign-in to verify or revoke -----------------------------------------------------------------


@pytest.fixture
def pending(client, factory):
    practitioner = factory.practitioner()
    headers = factory.headers(practitioner.user)
    data = {**submission(), "evidence": (io.BytesIO(PNG), "licence.png")}
    response = client.post(
        "/api/v1/me/credentials", data=data, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _age(kind, minutes):
    db.session.execute(sa.update(kind).values(authenticated_at=now_utc() - timedelta(minutes=minutes)))
    db.session.commit()


def _status(cid):
    db.session.expire_all()
    return db.session.get(Credential, cid).status


def test_an_api_verify_needs_a_token_from_the_last_15_minutes(client, factory, pending):
    admin = factory.user("admin")
    headers = factory.headers(admin)
    _age(ApiToken, 16)
    url = f"/api/v1/admin/credentials/{pending}/decision"
    stale = client.post(url, json={"action": "verify", "reason": ""}, headers=headers)
    assert stale.status_code == 403 and "fresh sign-in" in stale.get_json()["message"]
    assert _status(pending) == "pending"
    # Rejecting does not change what the public trusts: an older token may.
    assert client.get(f"/api/v1/admin/credentials/{pending}", headers=headers).status_code == 200
    fresh = client.post(url, json={"action": "verify", "reason": ""}, headers=factory.headers(admin))
    assert fresh.status_code == 200 and _status(pending) == "verified"


def test_a_page_verify_asks_to_confirm_then_goes_through(app, factory, pending):
    admin = factory.user("admin")
    browser = signed_in(app, admin)
    _age(WebSession, 16)
    url = f"/admin/credentials/{pending}/decision"

    response = browser.post(url, data={"action": "verify", "reason": ""})
    assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
    assert _status(pending) == "pending"

    wrong = browser.post(
        response.headers["Location"], data={"password": "not it at all", "totp": totp_code(admin)}
    )
    assert wrong.status_code == 401 and _status(pending) == "pending"
    back = browser.post(response.headers["Location"], data={"password": PASSWORD, "totp": totp_code(admin)})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/admin/credentials/{pending}")
    assert browser.post(url, data={"action": "verify", "reason": ""}).status_code == 302
    assert _status(pending) == "verified"


def test_a_page_reject_needs_no_fresh_sign_in(app, factory, pending):
    browser = signed_in(app, factory.user("admin"))
    _age(WebSession, 60)
    response = browser.post(
        f"/admin/credentials/{pending}/decision", data={"action": "reject", "reason": "Blurry"}
    )
    assert response.status_code == 302 and "/account/confirm" not in response.headers["Location"]
    assert _status(pending) == "rejected"
