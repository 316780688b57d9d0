"""What contract fuzzing found, each pinned by a plain test: 500s, statuses the document did not name,
and a document that could not describe what the API takes."""

import io

import pytest

from tests.contract.world import PNG

SPEC = "/api/v1/openapi.json"


@pytest.fixture
def spec(client):
    return client.get(SPEC).get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, path, operation


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/verification-events?after=227178953189284342176572296229027840", "after"),
        ("/api/v1/verification-events?after=2147483648", "after"),
    ],
)
def test_an_id_past_the_database_integer_is_a_422_not_an_overflow(client, path, field):
    response = client.get(path)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]


def test_the_last_possible_event_id_is_still_a_page(client):
    response = client.get("/api/v1/verification-events?after=2147483647")
    assert response.status_code == 200
    assert response.get_json()["events"] == []


@pytest.mark.parametrize(
    "techniques",
    [
        # An unknown slug beside a too-long one: a per-item message and a list message at once
        # once was {1: [...], "_schema": [...]}, keys JSON cannot sort, so a 500.
        ["a", "*" * 65],
        ["no-such-technique", "x" * 65, "y" * 70],
    ],
)
def test_a_credential_with_bad_technique_slugs_is_a_422_naming_them(client, factory, techniques):
    practitioner = factory.practitioner()
    form = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": "CMT-7777",
        "issued_on": "2015-06-01",
        "techniques": techniques,
        "evidence": (io.BytesIO(PNG), "licence.png"),
    }
    response = client.post("/api/v1/me/credentials", data=form, headers=factory.headers(practitioner.user))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "techniques" in response.get_json()["errors"]


NEEDS_A_PROFILE = [
    ("get", "/api/v1/me/profile"),
    ("post", "/api/v1/me/profile/confirm-accepting"),
    ("get", "/api/v1/me/locations"),
    ("post", "/api/v1/me/locations"),
    ("get", "/api/v1/me/credentials"),
    ("post", "/api/v1/me/review-invites"),
]


@pytest.mark.parametrize(("method", "path"), NEEDS_A_PROFILE)
def test_a_practitioner_without_a_profile_gets_the_documented_404(client, factory, spec, method, path):
    assert "404" in spec["paths"][path][method]["responses"], "the document must name the 404"
    headers = factory.headers(factory.user("practitioner"))
    bodies = {
        "/api/v1/me/locations": {"lat": 30.0, "lon": -97.0},
        "/api/v1/me/review-invites": {"email": "c@example.org"},
    }
    body = bodies.get(path) if method == "post" else None
    response = client.open(path, method=method.upper(), headers=headers, json=body)
    assert response.status_code == 404, response.get_data(as_text=True)


def test_a_place_past_the_limit_is_the_documented_409(client, factory, spec):
    from directory.practitioners.service import MAX_LOCATIONS

    assert "409" in spec["paths"]["/api/v1/me/locations"]["post"]["responses"]
    practitioner = factory.practitioner()
    for _ in range(MAX_LOCATIONS):
        factory.location(practitioner)
    response = client.post(
        "/api/v1/me/locations", json={"lat": 30.0, "lon": -97.0}, headers=factory.headers(practitioner.user)
    )
    assert response.status_code == 409


def test_a_multipart_body_is_documented_whole(spec):
    """Form fields and file parts in one multipart/form-data schema; OpenAPI 3 has no formData."""
    body = spec["paths"]["/api/v1/me/credentials"]["post"]["requestBody"]["content"]
    schema = body["multipart/form-data"]["schema"]
    assert {"issuer", "kind", "title", "number", "issued_on", "evidence"} <= set(schema["required"])
    assert schema["properties"]["evidence"]["format"] == "binary"
    roster = spec["paths"]["/api/v1/admin/issuers/{slug}/roster"]["post"]["requestBody"]["content"]
    assert list(roster) == ["multipart/form-data"]
    assert roster["multipart/form-data"]["schema"]["required"] == ["file"]
    for method, path, operation in operations(spec):
        assert all(p["in"] != "formData" for p in operation.get("parameters", [])), (method, path)


def test_every_error_response_is_the_error_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message"}
    assert {"errors", "request_id"} <= set(error["properties"])
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("4") and "$ref" not in response:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_each_operation_names_the_statuses_its_making_implies(spec):
    for method, path, operation in operations(spec):
        statuses = set(operation["responses"])
        if operation.get("security"):
            assert {"401", "403"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, (method, path)


def test_an_error_body_matches_the_documented_error(client, spec):
    """The Error component forbids other keys; what errors.py sends (request id included) fits it."""
    body = client.post("/api/v1/auth/register", json={"email": "x"}).get_json()
    documented = spec["components"]["schemas"]["Error"]
    assert set(body) <= set(documented["properties"])
    assert set(documented["required"]) <= set(body)


def test_field_errors_keyed_by_item_index_and_name_still_render(app):
    """A list field's per-item errors (int keys) beside a message for the whole list ('_schema'):
    Flask sorts keys, and these once could not be sorted (a 500 instead of the 422)."""
    from directory.errors import render_error

    with app.test_request_context("/api/v1/me/credentials"):
        response = render_error(
            422, "Some values are not valid.", {"techniques": {1: ["Too long."], "_schema": ["?"]}}
        )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"techniques": {"1": ["Too long."], "_schema": ["?"]}}


@pytest.mark.parametrize("slug", ["Õ\x00#", "\x00", "massage\x00", "UPPER", "trigger point", "-x-"])
def test_a_technique_that_is_not_slug_shaped_is_unknown_not_a_database_error(client, factory, slug):
    """PostgreSQL refuses NUL in a query: fuzzing sent one in a technique list (a 500 there, on the
    profile and on a credential alike)."""
    practitioner = factory.practitioner()
    headers = factory.headers(practitioner.user)
    profile = client.put(
        "/api/v1/me/profile", json={"display_name": "Casey", "techniques": [slug]}, headers=headers
    )
    assert profile.status_code == 422 and "techniques" in profile.get_json()["errors"]
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Massage therapist",
        "number": "CMT-1111",
        "issued_on": "2020-01-01",
        "techniques": slug,
        "evidence": (io.BytesIO(PNG), "licence.png"),
    }
    credential = client.post(
        "/api/v1/me/credentials", data=data, headers=headers, content_type="multipart/form-data"
    )
    assert credential.status_code == 422 and "techniques" in credential.get_json()["errors"]
