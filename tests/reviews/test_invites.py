"""Verified-client reviews that mean a visit: invites addressed to an email, redeemed only by a
confirmed account with that email, not from where the practitioner signs in, within limits."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.accounts.models import WebSession
from directory.extensions import db
from directory.reviews.models import Review, ReviewInvite
from directory.timeutil import now_utc
from tests.factories import PASSWORD, invite, mailed_invite_code, mails_to

BODY = "Sorted out my shoulder knots in two sessions."
INVITES = "/api/v1/me/review-invites"


@pytest.fixture
def pract(factory):
    return factory.practitioner(display_name="Robin Hale")


def write(client, factory, practitioner, user, code):
    body = {"rating": 5, "body": BODY, "invite_code": code}
    return client.post(
        f"/api/v1/practitioners/{practitioner.id}/reviews", json=body, headers=factory.headers(user)
    )


def open_invites() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReviewInvite))


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "email"),
        ({"email": ""}, 422, "email"),
        ({"email": "not an email"}, 422, "email"),
        ({"email": 42}, 422, "email"),
        ({"email": ["a@example.org"]}, 422, "email"),
        ({"email": "a" * 250 + "@example.org"}, 422, "email"),
        ({"email": "a@example.org", "code": "mine"}, 422, "code"),
        ({"email": "a@example.org", "practitioner_id": 1}, 422, "practitioner_id"),
    ],
)
def test_invite_bad_input_names_the_field_and_mails_nothing(client, factory, pract, body, status, field):
    response = client.post(INVITES, json=body, headers=factory.headers(pract.user))
    assert response.status_code == status
    assert field in response.get_json()["errors"]
    assert open_invites() == 0


def test_a_practitioner_cannot_invite_their_own_email(client, factory, pract):
    response = client.post(
        INVITES, json={"email": f" {pract.user.email.upper()} "}, headers=factory.headers(pract.user)
    )
    assert response.status_code == 422 and "email" in response.get_json()["errors"]
    assert open_invites() == 0


def test_an_account_made_after_the_invite_redeems_it_once_confirmed(client, factory, pract):
    code = invite(pract, "new.client@example.org")
    late = factory.user("client", email="new.client@example.org", confirmed=False)
    refused = write(client, factory, pract, late, code)
    assert refused.status_code == 403 and "Confirm your email" in refused.get_json()["message"]
    late.email_confirmed_at = now_utc()
    db.session.commit()
    written = write(client, factory, pract, late, code)
    assert written.status_code == 201 and written.get_json()["verified_client"] is True


def test_an_unconfirmed_account_cannot_review_even_without_an_invite(client, factory, pract):
    user = factory.user("client", confirmed=False)
    body = {"rating": 5, "body": BODY}
    response = client.post(
        f"/api/v1/practitioners/{pract.id}/reviews", json=body, headers=factory.headers(user)
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0


def test_the_code_works_only_for_its_address(client, factory, pract):
    meant, other = factory.user("client"), factory.user("client")
    code = invite(pract, meant.email)
    stolen = write(client, factory, pract, other, code)
    assert stolen.status_code == 422 and "invite_code" in stolen.get_json()["errors"]
    assert write(client, factory, pract, meant, code).status_code == 201


def test_an_account_registered_where_the_practitioner_signs_in_cannot_redeem(client, factory, pract):
    """The practitioner's own second account: registered from the address of their session today."""
    sock = factory.user("client")
    sock.registered_from = "203.0.113.7"
    factory.login(pract.user)  # the practitioner signs in from there
    db.session.execute(
        sa.update(WebSession).where(WebSession.user_id == pract.user.id).values(address="203.0.113.7")
    )
    db.session.commit()
    code = invite(pract, sock.email)
    refused = write(client, factory, pract, sock, code)
    assert refused.status_code == 422 and "where the practitioner signs in" in refused.get_json()["message"]
    assert db.session.scalar(sa.select(ReviewInvite.used_at)) is None

    # A session older than a day does not count: the same café a week ago is not the same person.
    long_ago = now_utc() - timedelta(hours=25)
    db.session.execute(
        sa.update(WebSession)
        .where(WebSession.user_id == pract.user.id)
        .values(created_at=long_ago, last_seen_at=long_ago)
    )
    db.session.commit()
    assert write(client, factory, pract, sock, code).status_code == 201


def test_at_most_twenty_open_invites(client, factory, pract):
    headers = factory.headers(pract.user)
    for n in range(20):
        assert client.post(INVITES, json={"email": f"c{n}@example.org"}, headers=headers).status_code == 201
    refused = client.post(INVITES, json={"email": "c20@example.org"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # One used: one more may be sent.
    db.session.execute(
        sa.update(ReviewInvite).where(ReviewInvite.email == "c0@example.org").values(used_at=now_utc())
    )
    db.session.commit()
    assert client.post(INVITES, json={"email": "c20@example.org"}, headers=headers).status_code == 201


def test_at_most_fifty_invites_in_thirty_days(client, factory, pract):
    headers = factory.headers(pract.user)
    for n in range(50):
        assert client.post(INVITES, json={"email": f"c{n}@example.org"}, headers=headers).status_code == 201
        if n % 10 == 9:  # keep fewer than 20 open, so only the monthly limit can refuse
            db.session.execute(sa.update(ReviewInvite).values(used_at=now_utc()))
            db.session.commit()
    refused = client.post(INVITES, json={"email": "c50@example.org"}, headers=headers)
    assert refused.status_code == 429 and "30 days" in refused.get_json()["message"]
    db.session.execute(sa.update(ReviewInvite).values(created_at=now_utc() - timedelta(days=31)))
    db.session.commit()
    assert client.post(INVITES, json={"email": "c50@example.org"}, headers=headers).status_code == 201


def test_the_invite_mail_links_to_the_configured_site_whatever_the_host(client, factory, pract):
    client.post(
        INVITES,
        json={"email": "c@example.org"},
        headers={**factory.headers(pract.user), "Host": "evil.example"},
    )
    code = mailed_invite_code("c@example.org")
    assert f"http://127.0.0.1:5000/practitioners/{pract.id}?invite={code}" in mails_to("c@example.org")[-1]
    assert "evil.example" not in mails_to("c@example.org")[-1]


def test_the_profile_counts_reviews_from_verified_clients(client, factory, pract):
    verified, plain = factory.user("client"), factory.user("client")
    assert write(client, factory, pract, verified, invite(pract, verified.email)).status_code == 201
    body = {"rating": 3, "body": BODY}
    client.post(f"/api/v1/practitioners/{pract.id}/reviews", json=body, headers=factory.headers(plain))
    rating = client.get(f"/api/v1/practitioners/{pract.id}").get_json()["rating"]
    assert (rating["count"], rating["verified_clients"]) == (2, 1)
    page = client.get(f"/practitioners/{pract.id}").get_data(as_text=True)
    assert "from 2 reviews" in page and "1 from verified clients" in page


def test_signing_in_records_the_address(client, factory):
    user = factory.user("client")
    client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert (
        db.session.scalar(sa.select(WebSession.address).where(WebSession.user_id == user.id))
        == "198.51.100.4"
    )
