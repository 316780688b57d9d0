"""The legal name: what rosters and admins compare, what records and the lookup state, and what a rename undoes."""

import pytest

from directory.credentials.models import Credential
from directory.extensions import db
from tests.credentials.roster_kit import HEADER, status_of, upload, verify_by_document
from tests.factories import attest

URL = "/api/v1/me/legal-name"


def set_name(client, headers, name):
    return client.put(URL, json={"legal_name": name}, headers=headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "legal_name"),
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "Lin"}, "legal_name"),  # one word: a lone surname is not a legal name
        ({"legal_name": "C. Lin"}, "legal_name"),  # an initial does not count as a given name
        ({"legal_name": "Casey\x00Lin"}, "legal_name"),
        ({"legal_name": "Casey Lin" + "n" * 200}, "legal_name"),
        ({"legal_name": 42}, "legal_name"),
        ({"legal_name": "Casey Lin", "display_name": "x"}, "display_name"),
    ],
)
def test_bad_legal_names_are_422_and_change_nothing(client, practitioner, body, field):
    response = client.put(URL, json=body, headers=practitioner.headers)

    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert client.get(URL, headers=practitioner.headers).get_json()["legal_name"] == "Casey Lin"


def test_only_a_practitioner_sets_their_own(client, factory):
    assert set_name(client, {}, "Casey Lin").status_code == 401
    assert set_name(client, factory.headers(factory.user("client")), "Casey Lin").status_code == 403


def test_a_credential_cannot_be_verified_without_a_legal_name(client, factory, admin, submit):
    p = factory.practitioner(display_name="Casey Lin", legal_name=None)
    headers = factory.headers(p.user)
    cid = submit(headers).get_json()["id"]

    refused = client.post(
        f"/api/v1/admin/credentials/{cid}/decision", json={"action": "verify"}, headers=admin.headers
    )
    assert refused.status_code == 409 and "legal name" in refused.get_json()["message"]
    roster = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n").get_json()
    assert roster["verified"] == 0
    assert (
        roster["details"]["mismatched"][0]["reason"] == "The practitioner has not given their legal name yet."
    )
    assert status_of(cid)[0] == "pending"


def test_rosters_compare_the_legal_name_not_the_display_name(client, factory, admin, submit):
    famous = factory.practitioner(display_name="Dr. Famous Healer", legal_name="Casey Ann Lin")
    headers = factory.headers(famous.user)
    cid = submit(headers).get_json()["id"]

    shown = upload(client, admin.headers, HEADER + "CMT-1001,Famous Healer,active,\n").get_json()
    assert shown["verified"] == 0 and status_of(cid)[0] == "pending"
    legal = upload(client, admin.headers, HEADER + 'CMT-1001,"LIN, CASEY A.",active,\n').get_json()
    assert legal["verified"] == 1 and status_of(cid) == ("verified", "roster")
    assert db.session.get(Credential, cid).verified_legal_name == "Casey Ann Lin"


def test_a_roster_row_sharing_only_the_surname_never_matches(client, factory, admin, submit):
    p = factory.practitioner(display_name="Casey Lin")
    cid = submit(factory.headers(p.user)).get_json()["id"]

    result = upload(client, admin.headers, HEADER + "CMT-1001,Lin,active,\n").get_json()

    assert result["verified"] == 0 and status_of(cid)[0] == "pending"


def record_status(client, token):
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return client.get(f"/api/v1/attestations/{claims['jti']}").get_json()


def test_a_rename_after_verification_sends_every_verified_credential_back(
    client, practitioner, admin, submit, runner
):
    licence = submit(practitioner.headers).get_json()["id"]
    board = submit(
        practitioner.headers, issuer="ncbtmb", kind="certification", number="123456-00"
    ).get_json()["id"]
    waiting = submit(practitioner.headers, number="CMT-2002").get_json()["id"]
    for cid in (licence, board):
        verify_by_document(client, admin, cid)
    record = attest(client, licence)
    assert record_status(client, record)["good"] is True

    renamed = set_name(client, practitioner.headers, "Casey Jordan")

    assert renamed.status_code == 200
    assert sorted(renamed.get_json()["sent_back"]) == [licence, board]
    assert status_of(licence) == ("recheck", "legal-name") and status_of(board)[0] == "recheck"
    assert status_of(waiting)[0] == "pending"  # nothing verified to send back
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["verified"] is False
    assert {c["label"] for c in profile["credentials"]} >= {"sent back for a re-check"}
    held = record_status(client, record)
    assert (held["good"], held["status"]) == (False, "recheck")
    assert client.get(f"/api/v1/credentials/{licence}/attestation").status_code == 404
    feed = client.get("/api/v1/verification-events").get_json()["events"]
    assert [(e["credential_id"], e["to_status"]) for e in feed][-2:] == [
        (licence, "recheck"),
        (board, "recheck"),
    ]
    # The re-check happens against the new name, and the new record states it.
    verify_by_document(client, admin, licence)
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(attest(client, licence).split(".")[1] + "=="))
    assert claims["holder"]["legal_name"] == "Casey Jordan"
    assert record_status(client, record)["status"] == "superseded"
    assert runner.invoke(args=["directory", "audit-verify"]).exit_code == 0


def test_a_display_name_change_changes_no_record_and_no_lookup(client, practitioner, admin, submit):
    cid = submit(practitioner.headers).get_json()["id"]
    verify_by_document(client, admin, cid)
    before = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()

    saved = client.put(
        "/api/v1/me/profile", json={"display_name": "Dr. Famous Healer"}, headers=practitioner.headers
    )
    assert saved.status_code == 200

    after = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()
    assert (
        after["practitioner"]
        == before["practitioner"]
        == {
            "id": practitioner.id,
            "display_name": "Casey Lin",
            "legal_name": "Casey Lin",
        }
    )
    assert status_of(cid)[0] == "verified"


def test_the_legal_name_is_not_on_the_public_profile(client, factory):
    p = factory.practitioner(display_name="Dr. Famous Healer", legal_name="Casey Ann Lin")

    page = client.get(f"/practitioners/{p.id}").get_data(as_text=True)
    api = client.get(f"/api/v1/practitioners/{p.id}").get_data(as_text=True)

    assert "Casey Ann Lin" not in page and "Casey Ann Lin" not in api


def test_setting_it_the_first_time_keeps_earlier_badges_until_their_re_check(client, factory, admin, submit):
    p = factory.practitioner(display_name="Casey Lin", legal_name=None)
    headers = factory.headers(p.user)
    cid = submit(headers).get_json()["id"]
    credential = db.session.get(Credential, cid)
    # Verified before legal names existed, under the display name (as migration 0007 records it).
    credential.status, credential.verified_legal_name = "verified", "Casey Lin"
    db.session.commit()

    assert set_name(client, headers, "Casey Ann Lin").get_json()["sent_back"] == []
    assert status_of(cid)[0] == "verified"
    queue = client.get("/api/v1/admin/rechecks", query_string={"reason": "recheck"}, headers=admin.headers)
    assert queue.get_json()["total"] == 0


def test_the_page_form_sets_the_legal_name_and_says_what_it_sent_back(
    app, client, practitioner, admin, submit
):
    from tests.factories import signed_in

    cid = submit(practitioner.headers).get_json()["id"]
    verify_by_document(client, admin, cid)
    web = signed_in(app, practitioner.user)

    refused = web.post("/account/legal-name", data={"legal_name": "Lin"})
    assert refused.status_code == 422 and "given and family names" in refused.get_data(as_text=True)
    saved = web.post("/account/legal-name", data={"legal_name": "Casey Jordan"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "1 verified credential is sent back" in html
    assert 'value="Casey Jordan"' in html
    assert status_of(cid)[0] == "recheck"
