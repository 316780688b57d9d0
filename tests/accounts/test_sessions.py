"""Sessions: a new id at every sign-in, server-side ends (sign-out, password change, everywhere),
idle and absolute timeouts, cookie flags."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.accounts.models import ApiToken, WebSession
from directory.extensions import db
from directory.timeutil import now_utc
from tests.factories import PASSWORD, live_grants, signed_in


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_signing_in_gives_a_new_session_and_ends_the_one_before(app, factory):
    user = factory.user()
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    first = _session_cookie(browser)
    first_row = db.session.scalar(sa.select(WebSession).where(WebSession.user_id == user.id))

    browser.post("/login", data={"email": user.email, "password": PASSWORD})

    assert _session_cookie(browser) != first
    assert factory.refresh(first_row).ended_at is not None
    assert live_grants(WebSession, user) == 1
    # The cookie from before the second sign-in (say, planted or copied) opens nothing now.
    stale = app.test_client()
    stale.set_cookie("session", first)
    assert stale.get("/account/security").status_code == 302


def test_whatever_the_session_held_before_sign_in_is_dropped(app, factory):
    user = factory.user()
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["planted"] = "by someone else"
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    with browser.session_transaction() as session:
        assert "planted" not in session


def test_sign_out_ends_the_session_on_the_server_and_a_copied_cookie_dies(app, factory):
    user = factory.user()
    browser = signed_in(app, user)
    copy = app.test_client()
    copy.set_cookie("session", _session_cookie(browser))
    assert copy.get("/account/security").status_code == 200

    browser.post("/logout")

    assert copy.get("/account/security").status_code == 302
    assert live_grants(WebSession, user) == 0


def test_sign_out_everywhere_ends_every_browser_and_token(app, client, factory):
    user = factory.user("practitioner")
    laptop, phone = signed_in(app, user), signed_in(app, user)
    headers = factory.headers(user)
    other = factory.user()
    other_browser = signed_in(app, other)

    response = laptop.post("/account/sign-out-everywhere")

    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert phone.get("/account/security").status_code == 302
    assert laptop.get("/account/security").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (live_grants(WebSession, user), live_grants(ApiToken, user)) == (0, 0)
    assert other_browser.get("/account/security").status_code == 200  # nobody else's


def test_sign_out_everywhere_through_the_api(app, client, factory):
    user = factory.user()
    browser = signed_in(app, user)
    headers, spare = factory.headers(user), factory.headers(user)

    assert client.post("/api/v1/auth/sign-out-everywhere", headers=headers).status_code == 204

    assert client.get("/api/v1/me", headers=spare).status_code == 401
    assert browser.get("/account/security").status_code == 302


def test_deleting_the_current_token_signs_that_token_out_only(client, factory):
    user = factory.user()
    one, two = factory.headers(user), factory.headers(user)
    assert client.delete("/api/v1/auth/tokens/current", headers=one).status_code == 204
    assert client.get("/api/v1/me", headers=one).status_code == 401
    assert client.get("/api/v1/me", headers=two).status_code == 200


def _works(kind, browser, client, headers) -> bool:
    if kind is WebSession:
        return browser.get("/account/security").status_code == 200
    return client.get("/api/v1/me", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("kind", "idle"),
    [(WebSession, timedelta(minutes=61)), (ApiToken, timedelta(days=7, minutes=1))],
)
def test_an_idle_session_or_token_ends(app, client, factory, kind, idle):
    user = factory.user()
    browser, headers = signed_in(app, user), factory.headers(user)
    assert _works(kind, browser, client, headers)
    db.session.execute(sa.update(kind).values(last_seen_at=now_utc() - idle))
    db.session.commit()

    assert not _works(kind, browser, client, headers)


def test_use_keeps_a_session_alive_past_the_idle_limit(app, factory):
    user = factory.user()
    browser = signed_in(app, user)
    # Seen 50 minutes ago, so the next request is within the hour and touches it.
    db.session.execute(sa.update(WebSession).values(last_seen_at=now_utc() - timedelta(minutes=50)))
    db.session.commit()
    assert browser.get("/account/security").status_code == 200
    seen = db.session.scalar(sa.select(WebSession.last_seen_at).where(WebSession.user_id == user.id))
    assert now_utc() - seen < timedelta(minutes=1)


@pytest.mark.parametrize("kind", [WebSession, ApiToken])
def test_a_session_or_token_ends_at_its_absolute_limit_however_busy(app, client, factory, kind):
    user = factory.user()
    browser, headers = signed_in(app, user), factory.headers(user)
    db.session.execute(
        sa.update(kind).values(expires_at=now_utc() - timedelta(seconds=1), last_seen_at=now_utc())
    )
    db.session.commit()

    assert not _works(kind, browser, client, headers)


def test_the_session_lives_at_most_twelve_hours_by_default(app, factory):
    user = factory.user()
    signed_in(app, user)
    row = db.session.scalar(sa.select(WebSession).where(WebSession.user_id == user.id))
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_session_cookie_flags_over_http_and_https(app, factory):
    user = factory.user()
    plain = app.test_client()
    response = plain.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    secure = app.test_client()
    response = secure.post(
        "/login", data={"email": user.email, "password": PASSWORD}, base_url="https://localhost"
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "; Secure" in cookie


def test_behind_a_trusted_proxy_https_is_taken_from_the_forwarded_header(make_app, factory):
    app = make_app(PROXY_FIX_HOPS=1)
    with app.app_context():
        user = factory.user()
    response = app.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "; Secure" in response.headers["Set-Cookie"]
