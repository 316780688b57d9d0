import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.practitioners.models import PracticeLocation


@pytest.fixture
def headers(client, factory):
    user = factory.user("practitioner")
    h = factory.headers(user)
    assert client.put("/api/v1/me/profile", json={"display_name": "Lee"}, headers=h).status_code == 200
    return h


def test_a_place_by_zip_is_geocoded_offline(client, headers):
    response = client.post(
        "/api/v1/me/locations", json={"postal_code": "78701", "label": "Studio"}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["city"] == "Austin" and body["region"] == "TX"
    assert abs(body["lat"] - 30.27) < 0.05 and abs(body["lon"] + 97.74) < 0.05
    assert body["geocoded_from"] in ("gazetteer", "cache")
    assert set(body) >= {
        "id",
        "label",
        "city",
        "region",
        "postal_code",
        "country",
        "lat",
        "lon",
        "geocoded_from",
    }


def test_a_place_by_city_and_state(client, headers):
    body = client.post("/api/v1/me/locations", json={"city": "Portland", "region": "OR"}, headers=headers)
    assert body.status_code == 201, body.get_json()
    assert abs(body.get_json()["lat"] - 45.5) < 0.3


def test_a_place_by_coordinates_keeps_them(client, headers):
    body = client.post(
        "/api/v1/me/locations", json={"lat": 47.6062, "lon": -122.3321, "city": "Seattle"}, headers=headers
    ).get_json()
    assert (body["lat"], body["lon"], body["geocoded_from"]) == (47.6062, -122.3321, "coordinates")


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({}, "address", 422),
        ({"label": "Nowhere"}, "address", 422),
        ({"postal_code": "00000"}, "postal_code", 422),
        ({"address": "qwzx plorb"}, "address", 422),
        ({"lat": 91, "lon": 0}, "lat", 422),
        ({"lat": -91, "lon": 0}, "lat", 422),
        ({"lat": 0, "lon": 181}, "lon", 422),
        ({"lat": 10}, "lon", 422),
        ({"lon": 10}, "lat", 422),
        ({"lat": "north", "lon": 1}, "lat", 422),
        ({"lat": "NaN", "lon": 1}, "lat", 422),
        ({"country": "USA", "postal_code": "78701"}, "country", 422),
        ({"label": "x" * 121, "lat": 1, "lon": 1}, "label", 422),
        ({"lat": 1, "lon": 1, "practitioner_id": 5}, "practitioner_id", 422),
        ({"lat": 1, "lon": 1, "geocoded_from": "gps"}, "geocoded_from", 422),
    ],
)
def test_bad_places_name_the_field(client, headers, body, field, status):
    response = client.post("/api/v1/me/locations", json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PracticeLocation)) == 0


def test_a_place_needs_a_profile_first(client, factory):
    headers = factory.headers(factory.user("practitioner"))
    assert client.post("/api/v1/me/locations", json={"lat": 1, "lon": 1}, headers=headers).status_code == 404


def test_delete_own_place_only(client, factory, headers):
    mine = client.post("/api/v1/me/locations", json={"lat": 1, "lon": 1}, headers=headers).get_json()["id"]
    other = factory.location(factory.practitioner())
    other_id = other.id
    assert client.delete(f"/api/v1/me/locations/{other_id}", headers=headers).status_code == 404
    assert db.session.get(PracticeLocation, other_id) is not None
    assert client.delete(f"/api/v1/me/locations/{mine}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/me/locations/{mine}", headers=headers).status_code == 404
    assert client.delete("/api/v1/me/locations/abc", headers=headers).status_code == 404


def test_a_profile_holds_at_most_ten_places(client, headers):
    for i in range(10):
        assert (
            client.post("/api/v1/me/locations", json={"lat": i, "lon": i}, headers=headers).status_code == 201
        )
    response = client.post("/api/v1/me/locations", json={"lat": 1, "lon": 1}, headers=headers)
    assert response.status_code == 409
