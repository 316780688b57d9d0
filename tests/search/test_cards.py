"""A search card's badge reads the credential as it stands today: verified through the last day of its
expiry, expired from the day after, whatever the index last heard (cards read the database)."""

import io
import re

import pytest

from tests.factories import PNG


@pytest.fixture
def verified_until_today(client, factory, clock):
    """A practitioner whose one credential was verified and expires today."""
    p = factory.practitioner(display_name="Robin Hale", approach="Trigger point work.")
    factory.location(p, lat=34.05, lon=-118.24, city="Los Angeles", region="CA")
    claim = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": "CMT-4401",
        "issued_on": "2015-06-01",
        "expires_on": clock.today().isoformat(),
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
