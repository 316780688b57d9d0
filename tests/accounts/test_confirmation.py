"""Email addresses are verified: a one-use link; until it is used no review, no invite, no listing.
Mail is queued in the request and sent after it; links name the configured site, never the Host."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import has_request_context

from directory import mail
from directory.accounts.models import EmailConfirmation, MailMessage, User
from directory.extensions import db
from directory.timeutil import now_utc
from tests.factories import PASSWORD, mails_to

NEW = {"email": "new.person@example.org", "password": "long enough pw", "role": "practitioner"}  # nosec B105


def confirmation_link(email: str) -> str:
    body = next(b for b in reversed(mails_to(email)) if "/confirm-email/" in b)
    return re.search(r"https?://\S+/confirm-email/\S+", body).group(0)


def registered(client, **overrides):
    assert client.post("/api/v1/auth/register", json={**NEW, **overrides}).status_code == 202
    return db.session.scalar(sa.select(User).where(User.email == NEW["email"]))


def test_the_link_confirms_once_and_names_the_configured_site(client):
    user = registered(client)
    link = confirmation_link(user.email)
    assert link.startswith("http://127.0.0.1:5000/confirm-email/")
    assert (
        urlsplit(link).path.rsplit("/", 1)[1]
        not in db.session.scalars(sa.select(EmailConfirmation.token_hash)).all()
    )
    opened = client.get(urlsplit(link).path)
    assert opened.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None
    assert client.get(urlsplit(link).path).status_code == 422  # one use


def test_a_host_header_never_reaches_a_link(client):
    client.post("/api/v1/auth/register", json=NEW, headers={"Host": "evil.example"})
    client.post("/api/v1/auth/password-reset", json={"email": NEW["email"]}, headers={"Host": "evil.example"})
    bodies = mails_to(NEW["email"])
    assert len(bodies) == 2 and not any("evil.example" in b for b in bodies)
    assert all("http://127.0.0.1:5000/" in b for b in bodies)


def test_the_api_confirms_with_the_token(client):
    user = registered(client)
    token = urlsplit(confirmation_link(user.email)).path.rsplit("/", 1)[1]
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 204
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 422
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "token"),
        ({"token": ""}, "token"),
        ({"token": "made-up"}, "token"),
        ({"token": "x" * 201}, "token"),
        ({"token": 12}, "token"),
        ({"token": "made-up", "user_id": 1}, "user_id"),
    ],
)
def test_confirm_email_bad_input(client, body, field):
    response = client.post("/api/v1/auth/confirm-email", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_an_expired_link_or_one_for_an_old_address_is_refused(client):
    user = registered(client)
    path = urlsplit(confirmation_link(user.email)).path
    db.session.execute(sa.update(EmailConfirmation).values(expires_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 422
    db.session.execute(sa.update(EmailConfirmation).values(expires_at=now_utc() + timedelta(hours=1)))
    db.session.execute(sa.update(User).where(User.id == user.id).values(email="changed@example.org"))
    db.session.commit()
    assert client.get(path).status_code == 422
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None


def test_until_confirmed_a_practitioner_is_not_listed(client, factory):
    practitioner = factory.practitioner(
        user=factory.user("practitioner", confirmed=False), display_name="Quinn Vale"
    )
    factory.location(practitioner)
    found = client.get("/api/v1/search", query_string={"q": "Quinn"}).get_json()["results"]
    assert practitioner.id not in [r["id"] for r in found]
    from directory.accounts import confirmation

    confirmation.issue(practitioner.user)
    db.session.commit()
    path = urlsplit(confirmation_link(practitioner.user.email)).path
    assert client.get(path).status_code == 302
    found = client.get("/api/v1/search", query_string={"q": "Quinn"}).get_json()["results"]
    assert practitioner.id in [r["id"] for r in found]


def test_an_unconfirmed_account_signs_in_and_is_told_to_confirm(app, factory):
    user = factory.user("client", confirmed=False)
    browser = app.test_client()
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    page = browser.get("/account/security").get_data(as_text=True)
    assert "Confirm your email address" in page and "Mail me a new link" in page


def test_resending_is_limited_and_refused_once_confirmed(client, factory):
    user = factory.user("client", confirmed=False)
    headers = factory.headers(user)
    for _ in range(2):  # the registration's own mail counts as the first of three this hour
        assert client.post("/api/v1/auth/confirm-email/resend", headers=headers).status_code == 202
    assert client.post("/api/v1/auth/confirm-email/resend", headers=headers).status_code == 429
    confirmed = factory.user("client")
    assert (
        client.post("/api/v1/auth/confirm-email/resend", headers=factory.headers(confirmed)).status_code
        == 409
    )
    assert client.post("/api/v1/auth/confirm-email/resend").status_code == 401


def test_the_confirmation_page_resends_from_the_security_page(app, factory):
    user = factory.user("client", confirmed=False)
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert browser.post("/account/confirm-email").status_code == 302
    assert len([b for b in mails_to(user.email) if "/confirm-email/" in b]) == 2  # registration's, and this


def test_reset_does_no_mail_work_inside_the_request(client, factory, monkeypatch):
    user = factory.user()
    calls = []
    monkeypatch.setattr(mail, "deliver", lambda to, subject, body: calls.append((to, has_request_context())))
    for email in (user.email, "nobody@example.org"):
        assert client.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
    # Both sent, neither inside its request: the request only wrote a row.
    assert calls == [(user.email, False), ("nobody@example.org", False)]
    resets = sa.select(MailMessage.sent_at).where(MailMessage.subject == "Reset your password")
    assert None not in db.session.scalars(resets).all()


def test_a_mail_that_cannot_be_sent_stays_queued_for_the_mailer(client, factory, monkeypatch, runner):
    user = factory.user()

    def down(*_):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(mail, "deliver", down)
    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    row = db.session.scalar(sa.select(MailMessage).where(MailMessage.subject == "Reset your password"))
    assert row.sent_at is None and row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    monkeypatch.undo()
    result = runner.invoke(args=["directory", "mailer"])
    assert result.exit_code == 0 and "still unsent" in result.output and "0 still unsent" in result.output
    db.session.expire_all()
    assert db.session.get(MailMessage, row.id).sent_at is not None
