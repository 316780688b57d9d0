"""One issuer lookup for every path that names an issuer by its slug: a claim, the public lookup (API
and page), a roster upload (API, page and command line) all find it, or refuse it, the same way."""

import pytest

from tests.credentials.roster_kit import HEADER, upload

UNKNOWN = ["nobody", "CAMTC", "camtc-", "no-such-board"]  # slugs are exact: no case folding, no prefix


@pytest.mark.parametrize("slug", UNKNOWN)
def test_a_claim_naming_an_unknown_issuer_is_refused_on_its_field(practitioner, submit, slug):
    response = submit(practitioner.headers, issuer=slug)
    assert response.status_code == 422, response.get_json()
    assert f"Unknown issuer {slug}." in response.get_json()["message"]


@pytest.mark.parametrize("slug", UNKNOWN)
def test_the_public_lookup_of_an_unknown_issuer_is_not_found(client, slug):
    response = client.get("/api/v1/verify", query_string={"issuer": slug, "number": "CMT-1001"})
    assert response.status_code == 404
    assert response.get_json()["message"] == f"Unknown issuer {slug}. See /api/v1/issuers."
    page = client.get("/verify", query_string={"issuer": slug, "number": "CMT-1001"})
    assert page.status_code == 404 and f"Unknown issuer {slug}." in page.get_data(as_text=True)


@pytest.mark.parametrize("slug", UNKNOWN)
def test_a_roster_for_an_unknown_issuer_is_not_found_by_api_and_command_line(
    client, admin, runner, tmp_path, slug
):
    response = upload(client, admin.headers, HEADER, slug=slug)
    assert response.status_code == 404
    assert response.get_json()["message"] == f"Unknown issuer {slug}. See /api/v1/issuers."
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER)
    result = runner.invoke(args=["directory", "import-roster", slug, str(roster), "--admin", admin.email])
    assert result.exit_code != 0 and f"Unknown issuer {slug}." in result.output


def test_the_known_issuer_is_found_by_every_path(client, practitioner, submit, admin):
    assert submit(practitioner.headers).status_code == 201
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"})
    assert (
        lookup.status_code == 404 and "Unknown issuer" not in lookup.get_json()["message"]
    )  # nobody holds it yet
    roster = upload(client, admin.headers, HEADER, slug="camtc")  # found: refused for its empty body only
    assert roster.status_code == 422 and "Unknown issuer" not in roster.get_json()["message"]
