"""The source decides the facts: only dates it shows and techniques an admin confirmed read as verified."""

import pytest

from tests.credentials.roster_kit import status_of

NMT = {"issuer": "nmt-center", "kind": "certification", "number": "NMT-7"}


def decide(client, admin_headers, cid, **body):
    return client.post(f"/api/v1/admin/credentials/{cid}/decision", json=body, headers=admin_headers)


def profile(client, practitioner):
    return client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()


def test_experience_counts_only_from_an_issue_date_the_document_shows(
    client, practitioner, admin_headers, submit
):
    from directory.timeutil import today_utc

    cid = submit(practitioner.headers, issued_on="2010-01-01").get_json()["id"]
    assert decide(client, admin_headers, cid, action="verify").status_code == 200
    shown = profile(client, practitioner)
    # The claimant typed 2010; the admin did not say the document shows it.
    assert shown["verified"] is True and shown["verified_years_experience"] is None
    assert shown["credentials"][0]["issued_on"] is None
    assert shown["credentials"][0]["expires_on_verified"] is False

    other = submit(practitioner.headers, number="CMT-2002", issued_on="2010-01-01").get_json()["id"]
    decided = decide(
        client, admin_headers, other, action="verify", issued_on="2012-05-01", expires_on="2029-01-31"
    )
    assert decided.status_code == 200
    shown = profile(client, practitioner)
    assert shown["verified_years_experience"] == today_utc().year - 2012  # the document's date, not 2010
    second = next(c for c in shown["credentials"] if c["id"] == other)
    assert (second["issued_on"], second["expires_on"], second["expires_on_verified"]) == (
        "2012-05-01",
        "2029-01-31",
        True,
    )


def test_an_expiry_the_document_shows_ends_the_badge_whatever_was_claimed(
    client, practitioner, admin_headers, submit
):
    cid = submit(practitioner.headers, expires_on="2030-06-01").get_json()["id"]
    decide(client, admin_headers, cid, action="verify", expires_on="2020-01-31")

    shown = profile(client, practitioner)
    assert shown["verified"] is False and shown["credentials"][0]["status"] == "expired"


def test_only_the_techniques_an_admin_ticked_are_verified(client, practitioner, admin_headers, submit):
    cid = submit(
        practitioner.headers, **NMT, techniques=["neuromuscular-therapy", "trigger-point-therapy"]
    ).get_json()["id"]
    client.put(
        "/api/v1/me/profile",
        json={"display_name": "Casey Lin", "techniques": ["neuromuscular-therapy", "trigger-point-therapy"]},
        headers=practitioner.headers,
    )

    assert (
        decide(client, admin_headers, cid, action="verify", techniques=["trigger-point-therapy"]).status_code
        == 200
    )

    shown = profile(client, practitioner)
    assert {t["slug"]: t["verified"] for t in shown["techniques"]} == {
        "neuromuscular-therapy": False,
        "trigger-point-therapy": True,
    }
    assert shown["credentials"][0]["confirmed_techniques"] == ["trigger-point-therapy"]


def test_a_certificate_verified_by_roster_confirms_no_technique(client, practitioner, admin, submit):
    from tests.credentials.roster_kit import upload

    cid = submit(practitioner.headers, **NMT, techniques=["neuromuscular-therapy"]).get_json()["id"]
    client.put(
        "/api/v1/me/profile",
        json={"display_name": "Casey Lin", "techniques": ["neuromuscular-therapy"]},
        headers=practitioner.headers,
    )

    result = upload(
        client, admin.headers, "number,name,status,expires_on\nnmt-7,Casey Lin,active,\n", slug="nmt-center"
    )

    assert result.get_json()["verified"] == 1 and status_of(cid) == ("verified", "roster")
    assert [t["verified"] for t in profile(client, practitioner)["techniques"]] == [False]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "verify", "techniques": ["sports-massage"]}, "techniques"),  # not claimed
        ({"action": "verify", "techniques": ["no-such-technique"]}, "techniques"),
        ({"action": "verify", "techniques": "neuromuscular-therapy"}, "techniques"),
        ({"action": "verify", "issued_on": "yesterday"}, "issued_on"),
        ({"action": "verify", "expires_on": "2030-02-30"}, "expires_on"),
        (
            {"action": "reject", "reason": "x", "issued_on": "2015-01-01"},
            None,
        ),  # dates belong to a verification
        ({"action": "verify", "techniques": ["neuromuscular-therapy"] * 11}, "techniques"),
    ],
)
def test_bad_facts_on_a_decision_are_422_and_change_nothing(
    client, practitioner, admin_headers, submit, body, field
):
    cid = submit(practitioner.headers, **NMT, techniques=["neuromuscular-therapy"]).get_json()["id"]

    response = decide(client, admin_headers, cid, **body)

    assert response.status_code == 422, response.get_json()
    if field:
        assert field in response.get_json()["errors"]
    assert status_of(cid)[0] == "pending"


def test_techniques_are_confirmed_on_training_program_certificates_only(
    client, practitioner, admin_headers, submit
):
    cid = submit(practitioner.headers).get_json()["id"]

    response = decide(client, admin_headers, cid, action="verify", techniques=[])

    assert response.status_code == 422 and "techniques" in response.get_json()["errors"]


def test_the_decision_form_asks_for_each_date_and_technique(app, client, practitioner, admin, submit):
    from tests.factories import signed_in

    cid = submit(
        practitioner.headers, **NMT, techniques=["neuromuscular-therapy", "trigger-point-therapy"]
    ).get_json()["id"]
    web = signed_in(app, admin)
    page = web.get(f"/admin/credentials/{cid}").get_data(as_text=True)
    assert 'name="issued_on"' in page and 'name="expires_on"' in page
    assert page.count('name="techniques"') == 2

    done = web.post(
        f"/admin/credentials/{cid}/decision",
        data={"action": "verify", "issued_on": "2016-02-03", "techniques": ["neuromuscular-therapy"]},
    )

    assert done.status_code == 302, done.get_data(as_text=True)
    mine = client.get("/api/v1/me/credentials", headers=practitioner.headers).get_json()[0]
    assert mine["source_issued_on"] == "2016-02-03" and mine["confirmed_techniques"] == [
        "neuromuscular-therapy"
    ]
