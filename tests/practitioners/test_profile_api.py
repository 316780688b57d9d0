from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.search.models import SearchOutbox
from directory.timeutil import now_utc, today_utc

FULL = {
    "display_name": "Maya Ortiz",
    "headline": "Neuromuscular therapist for desk-bound backs",
    "approach": "I find the trigger points behind your headaches and release them gently.",
    "techniques": ["neuromuscular-therapy", "trigger-point-therapy"],
    "conditions": ["headaches", "neck-pain"],
    "client_groups": ["office-workers"],
    "practicing_since": 2012,
    "languages": ["en", "es"],
    "accepting_clients": True,
    "mobile": False,
    "price_min": 80,
    "price_max": 120,
    "phone": "+1 (512) 555-0100",
    "website": "https://maya.example.org",
}


@pytest.fixture
def practitioner_headers(factory):
    return factory.headers(factory.user("practitioner"))


def test_profile_round_trip(client, practitioner_headers):
    assert client.get("/api/v1/me/profile", headers=practitioner_headers).status_code == 404
    saved = client.put("/api/v1/me/profile", json=FULL, headers=practitioner_headers)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    for key, value in FULL.items():
        assert body[key] == value, key
    assert body["accepting_confirmed_at"]
    again = client.get("/api/v1/me/profile", headers=practitioner_headers).get_json()
    assert again == body
    # What GET returns can be PUT back as it is (server-set fields aside).
    echo = {k: v for k, v in again.items() if k in FULL}
    assert client.put("/api/v1/me/profile", json=echo, headers=practitioner_headers).status_code == 200


def test_a_minimal_profile_needs_only_a_name(client, practitioner_headers):
    body = client.put("/api/v1/me/profile", json={"display_name": "  Sam  "}, headers=practitioner_headers)
    assert body.status_code == 200
    assert body.get_json()["display_name"] == "Sam"
    assert body.get_json()["accepting_clients"] is False


def test_put_replaces_the_lists(client, practitioner_headers):
    client.put("/api/v1/me/profile", json=FULL, headers=practitioner_headers)
    body = client.put(
        "/api/v1/me/profile", json={**FULL, "techniques": ["swedish-massage"]}, headers=practitioner_headers
    ).get_json()
    assert body["techniques"] == ["swedish-massage"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Practitioner)) == 1


THIS_YEAR = today_utc().year


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": None}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 121}, "display_name"),
        ({"display_name": 12}, "display_name"),
        ({"approach": "x" * 5001}, "approach"),
        ({"headline": "x" * 201}, "headline"),
        ({"techniques": ["reiki"]}, "techniques"),
        ({"techniques": "neuromuscular-therapy"}, "techniques"),
        ({"conditions": ["hangover"]}, "conditions"),
        ({"client_groups": ["astronauts"]}, "client_groups"),
        ({"practicing_since": 1949}, "practicing_since"),
        ({"practicing_since": THIS_YEAR + 1}, "practicing_since"),
        ({"practicing_since": "2010"}, "practicing_since"),
        ({"practicing_since": 2010.5}, "practicing_since"),
        ({"languages": ["english"]}, "languages"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": "en"}, "languages"),
        ({"accepting_clients": "yes"}, "accepting_clients"),
        ({"mobile": 1}, "mobile"),
        ({"price_min": 200, "price_max": 100}, "price_max"),
        ({"price_min": -5}, "price_min"),
        ({"price_max": "cheap"}, "price_max"),
        ({"phone": "call me maybe"}, "phone"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://example.org"}, "website"),
        ({"status": "verified"}, "status"),
        ({"user_id": 1}, "user_id"),
        ({"id": 99}, "id"),
        ({"verified": True}, "verified"),
    ],
)
def test_profile_bad_input_names_the_field(client, practitioner_headers, change, field):
    body = {**FULL, **change}
    if change.get("display_name", "keep") is None:
        body.pop("display_name")
    response = client.put("/api/v1/me/profile", json=body, headers=practitioner_headers)
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert field in payload["errors"], payload
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Practitioner)) == 0


@pytest.mark.parametrize("raw", ["{", "[]", "null", '"x"'])
def test_profile_malformed_json(client, practitioner_headers, raw):
    response = client.put(
        "/api/v1/me/profile", data=raw, content_type="application/json", headers=practitioner_headers
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] == response.status_code


@pytest.mark.parametrize("role", ["client", "admin"])
def test_only_practitioners_have_profiles(client, factory, role):
    headers = factory.headers(factory.user(role))
    assert client.put("/api/v1/me/profile", json=FULL, headers=headers).status_code == 403
    assert client.get("/api/v1/me/profile", headers=headers).status_code == 403
    assert client.post("/api/v1/me/locations", json={"lat": 1, "lon": 1}, headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/profile"),
        ("put", "/api/v1/me/profile"),
        ("post", "/api/v1/me/locations"),
        ("delete", "/api/v1/me/locations/1"),
        ("post", "/api/v1/me/profile/confirm-accepting"),
    ],
)
def test_self_service_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_accepting_lapses_after_thirty_days_unless_confirmed(client, factory, monkeypatch):
    user = factory.user("practitioner")
    headers = factory.headers(user)
    client.put("/api/v1/me/profile", json=FULL, headers=headers)
    pid = client.get("/api/v1/me", headers=headers).get_json()["practitioner_id"]
    assert client.get(f"/api/v1/practitioners/{pid}").get_json()["accepting_clients"] is True

    later = now_utc() + timedelta(days=31)
    monkeypatch.setattr("directory.practitioners.service.now_utc", lambda: later)
    assert client.get(f"/api/v1/practitioners/{pid}").get_json()["accepting_clients"] is False
    confirmed = client.post("/api/v1/me/profile/confirm-accepting", headers=headers)
    assert confirmed.status_code == 200
    assert confirmed.get_json()["accepting_clients"] is True
    assert client.get(f"/api/v1/practitioners/{pid}").get_json()["accepting_clients"] is True


def test_public_profile_has_every_contract_field(client, factory):
    practitioner = factory.practitioner(**FULL)
    factory.location(practitioner, label="Studio", address="1 Secret Lane")
    body = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert set(body) >= {
        "id",
        "display_name",
        "headline",
        "approach",
        "techniques",
        "conditions",
        "client_groups",
        "languages",
        "years_experience",
        "verified_years_experience",
        "accepting_clients",
        "accepting_confirmed_at",
        "mobile",
        "price_min",
        "price_max",
        "website",
        "locations",
        "credentials",
        "rating",
        "verified",
    }
    assert body["years_experience"] == THIS_YEAR - 2012
    assert body["techniques"][0] == {
        "slug": "neuromuscular-therapy",
        "name": "Neuromuscular therapy (NMT)",
        "verified": False,
    }
    assert body["credentials"] == [] and body["verified"] is False
    assert body["rating"] == {
        "average": None,
        "count": 0,
        "verified_clients": 0,
        "histogram": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert body["locations"][0]["city"] == "Austin"
    assert "address" not in body["locations"][0]  # the street stays private


def test_the_public_profile_lists_each_vocabulary_by_name(client, factory):
    """By name as people read them, which is not the slugs' order in any of the three, on the
    API and the page alike; a practitioner's terms are never another's."""
    practitioner = factory.practitioner(
        techniques=["pnf-stretching", "positional-release"],
        conditions=["chronic-pain", "headaches"],
        client_groups=["stress-sufferers", "chronic-conditions"],
    )
    factory.practitioner(techniques=["swedish-massage"], conditions=["stress"], client_groups=["athletes"])
    body = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    names = {kind: [t["name"] for t in body[kind]] for kind in ("techniques", "conditions", "client_groups")}
    assert names == {
        "techniques": ["Positional release", "Proprioceptive neuromuscular facilitation (PNF)"],
        "conditions": ["Chronic headaches", "Chronic pain"],
        "client_groups": ["People under high stress", "People with chronic conditions"],
    }
    page = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert page.index("Positional release") < page.index("Proprioceptive neuromuscular")
    assert page.index("Chronic headaches") < page.index("Chronic pain")
    assert "Swedish massage" not in page and "Athletes" not in page


def test_profile_changes_reach_the_search_outbox(client, factory):
    user = factory.user("practitioner")
    headers = factory.headers(user)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox))
    client.put("/api/v1/me/profile", json=FULL, headers=headers)
    pid = client.get("/api/v1/me", headers=headers).get_json()["practitioner_id"]
    client.post("/api/v1/me/locations", json={"lat": 40.0, "lon": -75.0}, headers=headers)
    rows = db.session.scalars(sa.select(SearchOutbox.practitioner_id).order_by(SearchOutbox.id)).all()
    assert len(rows) - before >= 2
    assert set(rows[before:]) == {pid}


@pytest.mark.parametrize(
    ("accepting", "confirmed", "lapses"),
    [(True, True, True), (False, True, False), (True, False, False), (False, False, False)],
)
def test_only_a_confirmed_accepting_profile_has_a_lapse(app, accepting, confirmed, lapses):
    """Read from the two columns as search reads them: a row not accepting never shows as accepting, even
    with a confirmation on record (the app clears it, a row written by hand may not)."""
    from directory.practitioners.service import accepting_lapse

    at = now_utc()
    found = accepting_lapse(accepting, at if confirmed else None)
    assert found == (at + timedelta(days=app.config["ACCEPTING_LAPSE_DAYS"]) if lapses else None)
