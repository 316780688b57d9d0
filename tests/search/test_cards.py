"""A search card's badge reads the credential as it stands today: verified through the last day of its
expiry, expired from the day after, whatever the index last heard (cards read the database)."""

import io
import re
from datetime import date, timedelta

import pytest
from werkzeug.datastructures import FileStorage

from directory.credentials import lifecycle, service
from directory.credentials.lifecycle import Facts
from directory.credentials.models import Credential
from directory.extensions import db
from tests.factories import PNG, submission


@pytest.fixture
def verified_until_today(client, factory, clock):
    """A practitioner whose one credential was verified and expires today."""
    p = factory.practitioner(display_name="Robin Hale", approach="Trigger point work.")
    factory.location(p, lat=34.05, lon=-118.24, city="Los Angeles", region="CA")
    claim = {
        **submission(number="CMT-4401", expires_on=clock.today().isoformat()),
        "evidence": (io.BytesIO(PNG), "licence.png"),
    }
    created = client.post(
        "/api/v1/me/credentials",
        data=claim,
        headers=factory.headers(p.user),
        content_type="multipart/form-data",
    )
    assert created.status_code == 201, created.get_json()
    decided = client.post(
        f"/api/v1/admin/credentials/{created.get_json()['id']}/decision",
        json={"action": "verify"},
        headers=factory.headers(factory.user("admin")),
    )
    assert decided.get_json()["status"] == "verified", decided.get_json()
    return p


def card(client, **params) -> dict:
    body = client.get("/api/v1/search", query_string={"q": "trigger point", **params}).get_json()
    assert not body["degraded"]
    (found,) = body["results"]
    return found


def page_badge(client) -> bool:
    html = client.get("/", query_string={"q": "trigger point"}).get_data(as_text=True)
    assert "Robin Hale" in html
    return bool(re.search(r'<span class="badge verified">Verified</span>', html))


def test_a_credential_expiring_today_still_shows_its_badge(client, verified_until_today):
    found = card(client)
    assert found["verified"] is True
    assert [(c["status"], c["label"]) for c in found["credentials"]] == [
        ("verified", "re-check due")
    ]  # its expiry is its re-check
    assert any(line.startswith("Verified credential: Certified Massage Therapist") for line in found["why"])
    assert page_badge(client) is True
    assert [r["id"] for r in client.get("/api/v1/search?verified=true").get_json()["results"]] == [
        verified_until_today.id
    ]


def test_a_credential_that_expired_yesterday_shows_no_badge(client, verified_until_today, clock):
    clock.advance(days=1)
    found = card(client)
    assert found["verified"] is False
    assert [(c["status"], c["label"]) for c in found["credentials"]] == [("expired", "expired")]
    assert not any(line.startswith("Verified credential") for line in found["why"])
    assert page_badge(client) is False
    assert client.get("/api/v1/search?verified=true").get_json()["results"] == []


def verified_by_hand(factory, claimed: date | None, shown: date | None):
    """A practitioner whose credential an admin verified with the expiry the source showed (`shown`),
    which may differ from what the claimant said (`claimed`)."""
    p = factory.practitioner(display_name="Robin Hale", approach="Trigger point work.")
    factory.location(p, lat=34.05, lon=-118.24, city="Los Angeles", region="CA")
    claim = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": "CMT-4402",
        "issued_on": date(2015, 6, 1),
        "expires_on": claimed,
        "techniques": [],
    }
    credential = service.submit(p.user, claim, FileStorage(io.BytesIO(PNG), "licence.png"))
    lifecycle.transition(credential, "verify", None, facts=Facts(legal_name="Robin Hale", expires_on=shown))
    db.session.commit()
    return credential


@pytest.mark.parametrize(
    ("claimed_in", "shown_in", "read"),
    [
        (400, -1, ("expired", "expired")),  # the source's earlier end counts, not the claimant's
        (-1, 400, ("verified", "verified")),  # and its later one: the claimant's date is only a claim
    ],
)
def test_a_card_reads_the_expiry_the_source_showed(client, factory, clock, claimed_in, shown_in, read):
    clock.advance(days=-2)  # verified while both dates were ahead
    verified_by_hand(
        factory, clock.today() + timedelta(days=2 + claimed_in), clock.today() + timedelta(days=2 + shown_in)
    )
    clock.advance(days=2)
    found = card(client)
    assert [(c["status"], c["label"]) for c in found["credentials"]] == [read]
    assert found["verified"] is (read[0] == "verified")


def test_a_card_of_a_lapse_stored_as_a_missed_re_check_says_so(client, factory, clock):
    clock.advance(days=-400)
    credential = verified_by_hand(factory, None, None)
    clock.advance(days=400)  # a year and the 30 days' grace have gone by with no re-check
    lifecycle.settle(db.session.get(Credential, credential.id))  # what reading it writes down
    db.session.commit()
    assert db.session.get(Credential, credential.id).status == "lapsed"
    found = card(client)
    assert [(c["status"], c["label"]) for c in found["credentials"]] == [("lapsed", "lapsed: not re-checked")]
    assert found["verified"] is False
