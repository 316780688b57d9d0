import pytest

from directory.extensions import db
from directory.practitioners.models import Practitioner

PROFILE_FORM = {
    "display_name": "Robin Hale",
    "headline": "Trigger point work for runners",
    "approach": "Knots in the calves, stiff hips: we work them out.",
    "techniques": ["trigger-point-therapy", "sports-massage"],
    "conditions": ["muscle-spasms"],
    "client_groups": ["athletes"],
    "practicing_since": "2015",
    "languages": "en, es",
    "accepting_clients": "y",
    "price_min": "60",
    "price_max": "90",
    "phone": "512-555-0101",
    "website": "https://robin.example.org",
}


@pytest.fixture
def practitioner_user(factory):
    user = factory.user("practitioner")
    factory.login(user)
    return user


def test_dashboard_saves_a_profile(client, practitioner_user):
    assert "Fill in your profile" in client.get("/account").get_data(as_text=True)
    response = client.post("/account", data=PROFILE_FORM)
    assert response.status_code == 302
    practitioner = db.session.query(Practitioner).one()
    assert practitioner.display_name == "Robin Hale"
    assert [t.slug for t in practitioner.techniques] == ["sports-massage", "trigger-point-therapy"]
    assert practitioner.languages == ["en", "es"]
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Robin Hale"' in page
    assert "accepting new clients until" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display_name": ""}, "Length must be between 1 and 120"),
        ({"practicing_since": "1900"}, "Give a year from 1950"),
        ({"price_min": "100", "price_max": "50"}, "lowest price must not be above"),
        ({"languages": "klingon"}, "Not an ISO 639-1 code"),
        ({"website": "javascript:alert(1)"}, "starting with https://"),
        ({"techniques": ["reiki"]}, "Unknown technique: reiki"),
    ],
)
def test_dashboard_explains_bad_input(client, practitioner_user, change, message):
    response = client.post("/account", data={**PROFILE_FORM, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(Practitioner).count() == 0


def test_places_by_zip_on_the_dashboard(client, practitioner_user):
    client.post("/account", data=PROFILE_FORM)
    added = client.post("/account/locations", data={"postal_code": "10001", "label": "Midtown"})
    assert added.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Midtown" in page and "New York" in page
    bad = client.post("/account/locations", data={"postal_code": "00000"})
    assert bad.status_code == 422
    assert "could not find" in bad.get_data(as_text=True)


def test_cannot_delete_someone_elses_place_from_the_page(client, factory, practitioner_user):
    other = factory.location(factory.practitioner())
    client.post("/account", data=PROFILE_FORM)
    response = client.post(f"/account/locations/{other.id}/delete")
    assert response.status_code == 404
    assert db.session.get(type(other), other.id) is not None


def test_clients_cannot_use_practitioner_pages(client, factory):
    factory.login(factory.user("client"))
    assert client.post("/account/locations", data={"postal_code": "10001"}).status_code == 403
    assert client.post("/account/confirm-accepting").status_code == 403
    assert "You are signed in as" in client.get("/account").get_data(as_text=True)


def test_public_profile_page_escapes_what_practitioners_write(client, factory):
    practitioner = factory.practitioner(
        display_name="<script>alert(1)</script>",
        approach='<img src=x onerror="alert(2)">',
        website="https://ok.example.org/?q=<b>",
    )
    factory.location(practitioner, city="<b>Austin</b>")
    html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<b>Austin</b>" not in html


def test_public_profile_page_shows_the_profile(client, factory):
    practitioner = factory.practitioner(
        display_name="Jo March",
        headline="Myofascial release",
        practicing_since=2010,
        techniques=["myofascial-release"],
        accepting_clients=True,
    )
    factory.location(practitioner, city="Austin", region="TX")
    html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert "Jo March" in html and "Myofascial release" in html and "Austin, TX" in html
    assert "Accepting new clients" in html
    assert client.get("/practitioners/987654").status_code == 404


def test_home_lists_practitioners(client, factory):
    factory.practitioner(display_name="Aaron Abel")
    html = client.get("/").get_data(as_text=True)
    assert "Aaron Abel" in html
