"""Primary-source roster import: the rules, through the API (the page and command: test_roster_pages.py)."""

import pytest
import sqlalchemy as sa

from directory.credentials import names, roster_file
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from tests.credentials.roster_kit import (
    GOOD,
    HEADER,
    URL,
    event_count,
    status_of,
    upload,
    verify_by_document,
)
from tests.factories import make_admin

# -- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roster_name", "display_name", "expected"),
    [
        ("Casey Lin", "Casey Lin", True),
        ("CASEY LIN", "casey lin", True),
        ("Lin, Casey", "Casey Lin", True),
        ("Lin Casey", "Casey Lin", True),
        ("Casey A. Lin", "Casey Lin", True),
        ("Lin, Casey A.", "Casey J Lin", True),
        ("José Álvarez", "Jose Alvarez", True),
        ("ÁLVAREZ, JOSÉ", "josé álvarez", True),
        ("Zoë O'Brien", "Zoe OBrien", True),
        ("Zoë O’Brien", "zoe o'brien", True),
        ("Anne-Marie Dupont", "Anne Marie Dupont", True),
        ("Straße, Jonas", "Jonas Strasse", True),
        ("Ｃａｓｅｙ Ｌｉｎ", "Casey Lin", True),  # fullwidth letters, as some exports write them
        ("Casey Ann Lin", "Casey Lin", True),  # a middle name one source leaves out
        ("Lin, Casey", "Dr. Casey Lin, LMT", True),  # titles the profile adds
        ("Lin", "Lin", False),  # one word alone, even the same, is a lone surname
        ("Casey Lin", "Casey Lim", False),
        ("Casey Lin", "Jordan Lin", False),
        ("Lin", "Casey Lin", False),  # a lone surname in common is not enough
        ("Casey Lin", "Casey Lin Massage Therapy Studio", False),  # a business name
        ("", "Casey Lin", False),
        (None, "Casey Lin", False),  # no legal name given yet: nothing to match
        ("A. B.", "A B", False),  # initials only: nothing left to compare
        ("Muller", "Mueller", False),
    ],
)
def test_names_match(roster_name, display_name, expected):
    assert names.names_match(roster_name, display_name) is expected
    assert names.names_match(display_name, roster_name) is expected


# -- import -------------------------------------------------------------------------------------------


def test_matching_pending_credentials_are_verified_by_roster(client, runner, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    jose = holder("José Álvarez", "CMT-2002", expires_on="2031-01-31")
    stranger = holder("Pat Doe", "CMT-3003")
    body = (
        HEADER
        + 'CMT-1001,"Lin, Casey A.",Active,2030-06-01\n'
        + "cmt-2002,JOSE ALVAREZ,ACTIVE,\n"
        + "CMT-3003,Robin Roe,active,2030-06-01\n"
        + "CMT-9999,Someone Else,active,2030-06-01\n"
    )

    response = upload(client, admin.headers, body)

    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert {k: result[k] for k in ("rows", "matched", "verified", "mismatched", "lapsed", "errors")} == {
        "rows": 4,
        "matched": 3,
        "verified": 2,
        "mismatched": 1,
        "lapsed": 0,
        "errors": [],
    }
    assert result["details"]["mismatched"] == [
        {
            "credential_id": stranger.credential_id,
            "number": "CMT-3003",
            "practitioner_id": stranger.id,
            "line": 4,
            "reason": "The roster's name “Robin Roe” is not the legal name “Pat Doe”.",
        }
    ]
    assert status_of(casey.credential_id) == ("verified", "roster")
    assert status_of(jose.credential_id) == ("verified", "roster")
    assert status_of(stranger.credential_id) == ("pending", None)
    trail = client.get(f"/api/v1/admin/audit?credential_id={casey.credential_id}", headers=admin.headers)
    last = trail.get_json()[-1]
    assert (last["from_status"], last["to_status"], last["method"]) == ("pending", "verified", "roster")
    assert last["actor"] == admin.email and last["reason"] == "Matched the issuer's roster"
    assert last["prev_hash"] == trail.get_json()[-2]["hash"]
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()
    assert lookup["status"] == "verified" and lookup["method"] == "roster"
    audit = runner.invoke(args=["directory", "audit-verify"])
    assert audit.exit_code == 0, audit.output
    assert "Audit chain intact" in audit.output


def test_a_number_claimed_by_two_accounts_is_never_verified_by_a_roster(client, admin, holder):
    right = holder("Casey Lin", "CMT-1001")
    squatter = holder("Jordan Park", "CMT-1001")

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n").get_json()

    assert (result["matched"], result["verified"], result["contested"]) == (1, 0, 2)
    assert sorted(result["details"]["contested"], key=lambda x: x["credential_id"]) == [
        {
            "credential_id": claimant.credential_id,
            "number": "CMT-1001",
            "practitioner_id": claimant.id,
            "line": 2,  # the roster line that named the number, for the admin who decides
            "reason": "Contested: an admin decides which account holds it.",
        }
        for claimant in sorted((right, squatter), key=lambda c: c.credential_id)
    ]
    assert status_of(right.credential_id)[0] == "contested"
    assert status_of(squatter.credential_id)[0] == "contested"


def test_inactive_or_expired_rows_and_own_credentials_are_not_verified(client, factory, holder):
    suspended = holder("Casey Lin", "CMT-1001")
    run_out = holder("Jordan Park", "CMT-2002")
    own = holder("Robin Roe", "CMT-3003")
    acting = make_admin(own.user.email)  # the holder becomes an admin
    headers = factory.headers(acting)
    body = (
        HEADER
        + "CMT-1001,Casey Lin,Suspended,2030-01-01\n"
        + "CMT-2002,Jordan Park,active,2020-01-01\n"
        + "CMT-3003,Robin Roe,active,\n"
    )

    result = upload(client, headers, body).get_json()

    assert (result["verified"], result["mismatched"]) == (0, 3)
    reasons = {m["number"]: (m["line"], m["reason"]) for m in result["details"]["mismatched"]}
    assert reasons == {  # each with the roster line it came from
        "CMT-1001": (2, "The roster lists it as Suspended."),
        "CMT-2002": (3, "The roster says it expired on 2020-01-01."),
        "CMT-3003": (4, "Your own credential: another admin must decide on it."),
    }
    for p in (suspended, run_out, own):
        assert status_of(p.credential_id)[0] == "pending"


def test_a_roster_rechecks_every_verified_credential_of_its_issuer(client, admin, holder, runner):
    missing = holder("Casey Lin", "CMT-1001")
    inactive = holder("Jordan Park", "CMT-2002")
    fine = holder("Robin Roe", "CMT-3003")
    for p in (missing, inactive, fine):
        verify_by_document(client, admin, p.credential_id)
    body = (
        HEADER
        + "CMT-2002,Jordan Park,revoked,\nCMT-3003,Robin Roe,active,2030-06-01\nCMT-9999,A Person,active,\n"
    )

    result = upload(client, admin.headers, body).get_json()

    assert (result["matched"], result["verified"], result["confirmed"], result["lapsed"]) == (2, 0, 1, 2)
    assert [(x["credential_id"], x["line"], x["reason"]) for x in result["details"]["lapsed"]] == [
        (missing.credential_id, None, "Not on the roster."),
        (inactive.credential_id, 2, "The roster lists it as revoked."),
    ]
    assert result["details"]["confirmed"] == [fine.credential_id]
    assert status_of(missing.credential_id) == ("lapsed", "roster")
    assert status_of(inactive.credential_id) == ("lapsed", "roster")
    assert status_of(fine.credential_id) == ("verified", "roster")
    assert runner.invoke(args=["directory", "audit-verify"]).exit_code == 0


def test_the_roster_s_dates_stand_and_the_claimant_s_differing_ones_are_reported(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001", issued_on="2015-06-01", expires_on="2030-06-01")
    body = "number,name,status,expires_on,issued_on\nCMT-1001,Casey Lin,active,2028-06-01,2017-03-01\n"

    result = upload(client, admin.headers, body).get_json()

    assert result["verified"] == 1
    assert result["details"]["dates_differ"] == [
        {
            "credential_id": casey.credential_id,
            "number": "CMT-1001",
            "line": 2,
            "field": field,
            "claimed": claimed,
            "roster": shown,
        }
        for field, claimed, shown in (
            ("issued_on", "2015-06-01", "2017-03-01"),
            ("expires_on", "2030-06-01", "2028-06-01"),
        )
    ]
    credential = db.session.get(Credential, casey.credential_id)
    assert (credential.issued_on.isoformat(), credential.expires_on.isoformat()) == (
        "2015-06-01",
        "2030-06-01",
    )
    assert (credential.source_issued_on.isoformat(), credential.ends_on.isoformat()) == (
        "2017-03-01",
        "2028-06-01",
    )
    public = client.get(f"/api/v1/practitioners/{casey.id}").get_json()
    shown = public["credentials"][0]
    assert (shown["issued_on"], shown["expires_on"], shown["expires_on_verified"]) == (
        "2017-03-01",
        "2028-06-01",
        True,
    )


def test_a_roster_under_another_name_sends_a_verified_credential_back_and_says_why(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, casey.credential_id)

    result = upload(client, admin.headers, HEADER + "CMT-1001,Jordan Park,active,\n").get_json()

    reason = "The roster's name “Jordan Park” is not the legal name “Casey Lin”."
    assert (result["sent_back"], result["verified"], result["confirmed"]) == (1, 0, 0)
    assert result["details"]["sent_back"] == [
        {
            "credential_id": casey.credential_id,
            "number": "CMT-1001",
            "practitioner_id": casey.id,
            "line": 2,
            "reason": reason,
        }
    ]
    assert status_of(casey.credential_id) == ("recheck", "roster")
    last = db.session.scalars(
        sa.select(CredentialEvent.reason)
        .where(CredentialEvent.credential_id == casey.credential_id)
        .order_by(CredentialEvent.id.desc())
    ).first()
    assert last == f"Roster line 2: {reason}"


@pytest.mark.parametrize(
    ("legal_name", "reason"),
    [
        ("Casey Lin", "The roster's name “Jordan Park” is not the legal name “Casey Lin”."),
        (None, "The practitioner has not given their legal name yet."),
    ],
)
def test_a_pending_claim_under_another_name_is_left_for_an_admin_with_the_reason(
    client, admin, factory, submit, legal_name, reason
):
    p = factory.practitioner(display_name="Casey Lin", legal_name=legal_name)
    created = submit(factory.headers(p.user), number="CMT-1001")
    assert created.status_code == 201, created.get_json()

    result = upload(client, admin.headers, HEADER + "CMT-1001,Jordan Park,active,\n").get_json()

    assert (result["mismatched"], result["verified"]) == (1, 0)
    assert [(m["line"], m["reason"]) for m in result["details"]["mismatched"]] == [(2, reason)]
    assert status_of(created.get_json()["id"])[0] == "pending"


def test_a_date_the_roster_leaves_blank_is_no_difference(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001", issued_on="2015-06-01", expires_on="2030-06-01")

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n").get_json()

    assert result["verified"] == 1
    assert result["details"]["dates_differ"] == []
    assert db.session.get(Credential, casey.credential_id).ends_on.isoformat() == "2030-06-01"


def test_dry_run_reports_and_changes_nothing(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    events = event_count()

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n", dry_run="true").get_json()

    assert (result["dry_run"], result["verified"]) == (True, 1)
    assert status_of(casey.credential_id)[0] == "pending" and event_count() == events


def test_a_bom_crlf_and_a_loose_header_are_accepted(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    body = "\ufeff Number , NAME,Status,Expires_On \r\n\r\nCMT-1001,Casey Lin,active,2030-06-01\r\n".encode()

    response = upload(client, admin.headers, body)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"] == 1
    assert status_of(casey.credential_id)[0] == "verified"


@pytest.mark.parametrize(
    ("body", "status", "field", "lines"),
    [
        pytest.param(b"", 422, "file", None, id="empty file"),
        pytest.param(GOOD.encode(), 422, "file", None, id="missing header"),
        pytest.param(b"number,name,status\nCMT-1111,A B,active\n", 422, "file", None, id="three columns"),
        pytest.param(b"number,name,state,expires_on\n" + GOOD.encode(), 422, "file", None, id="wrong column"),
        pytest.param(HEADER.encode(), 422, "file", None, id="no rows"),
        pytest.param(HEADER.encode() + b"\n\n", 422, "file", None, id="only blank lines"),
        pytest.param(
            HEADER.encode() + "CMT-1001,Jos\u00e9 Lin,active,\n".encode("latin-1"),
            422,
            "file",
            None,
            id="not utf-8",
        ),
        pytest.param(
            (
                HEADER + GOOD + "CMT-2222,A Person,active,31/12/2030\nCMT-3333,B Person,active,2030-02-30\n"
            ).encode(),
            422,
            None,
            [3, 4],
            id="bad dates",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2222,A Person,active,\ncmt 1001,Casey Lin,inactive,\n").encode(),
            422,
            None,
            [4],
            id="duplicate number",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2222,A Person,active\nCMT-3333,B,active,,extra,more\n").encode(),
            422,
            None,
            [3, 4],
            id="wrong column count",
        ),
        pytest.param(
            (HEADER + GOOD + ",A Person,active,\nCMT-4444,,active,\nCMT-5555,C Person,,\n").encode(),
            422,
            None,
            [3, 4, 5],
            id="empty number name status",
        ),
        pytest.param(
            (HEADER + GOOD + 'CMT-2222,"A Person\nover two lines,active,\n').encode(),
            422,
            None,
            [3],
            id="unclosed quote",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2222,A Person,active,soon\n" + GOOD.replace("1001", "1002")).encode(),
            422,
            None,
            [3],
            id="a bad line among good ones",
        ),
        pytest.param(
            (
                HEADER
                + GOOD
                + "CMT-12,A Person,active,\nCMT-1OO2,B Person,active,\nСМТ-1003,C Person,active,\n"
            ).encode(),
            422,
            None,
            [3, 4, 5],
            id="numbers that do not fit the issuer's format (too short, letter O, Cyrillic)",
        ),
        pytest.param(HEADER.encode() + b"x" * (roster_file.MAX_BYTES + 10), 413, None, None, id="too large"),
    ],
)
def test_a_bad_roster_changes_nothing(client, admin, holder, body, status, field, lines):
    casey = holder("Casey Lin", "CMT-1001")
    events = event_count()

    response = upload(client, admin.headers, body)

    assert response.status_code == status, response.get_json()
    payload = response.get_json()
    assert payload["code"] == status and payload["status"] and payload["message"]
    if field:
        assert list(payload["errors"]) == [field]
    if lines:
        assert [e["line"] for e in payload["errors"]] == lines
        assert all(e["message"] for e in payload["errors"])
        assert payload["message"].startswith("Nothing was applied")
    assert status_of(casey.credential_id) == ("pending", None)
    assert event_count() == events


def test_bad_line_messages_name_the_problem(client, admin):
    body = (
        HEADER
        + "CMT-2222,A Person,active,31/12/2030\nCMT-3333,B Person,active,\ncmt 3333,C Person,active,\n"
        + "CMT-12,D Person,active,\n"
    )

    errors = upload(client, admin.headers, body).get_json()["errors"]

    assert errors == [
        {"line": 2, "message": "expires_on “31/12/2030” is not a date written YYYY-MM-DD."},
        {"line": 4, "message": "The number cmt 3333 appears again (first on line 3)."},
        {
            "line": 5,
            "message": "The number “CMT-12”: That is not how California Massage Therapy Council numbers are "
            "written. It looks like CMT-12345.",
        },
    ]


def test_not_utf8_names_the_line(client, admin):
    body = HEADER.encode() + b"CMT-1,A Person,active,\nCMT-2,Jos\xe9 Lin,active,\n"

    payload = upload(client, admin.headers, body).get_json()

    assert "line 3" in payload["message"] and "UTF-8" in payload["message"]


def test_many_bad_lines_are_listed_up_to_a_limit(client, admin):
    most = roster_file.MAX_LISTED_ERRORS
    body = HEADER + "".join(f"CMT-{1000 + n},A Person,active,never\n" for n in range(most + 50))

    payload = upload(client, admin.headers, body).get_json()

    assert len(payload["errors"]) == most
    assert f"{most + 50} problems" in payload["message"]


def test_a_missing_file_part_names_file(client, admin):
    response = client.post(URL, data={}, headers=admin.headers, content_type="multipart/form-data")

    assert response.status_code == 422 and "file" in response.get_json()["errors"]


def test_a_roster_larger_than_evidence_files_is_accepted(client, admin):
    padding = "\n" * (7 * 1024 * 1024)  # past the app-wide 6 MB request limit, within the roster's 20 MB

    response = upload(client, admin.headers, HEADER + padding + GOOD)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"] == 1


def test_only_admins_import(client, factory):
    body = HEADER + GOOD
    assert upload(client, {}, body).status_code == 401
    for role in ("client", "practitioner"):
        response = upload(client, factory.headers(factory.user(role)), body)
        assert response.status_code == 403 and response.get_json()["code"] == 403
        no_file = client.post(URL, data={}, headers=factory.headers(factory.user(role)))
        assert no_file.status_code == 403  # who may call is settled before the body is judged
    assert client.post(URL, data={}).status_code == 401


def test_unknown_issuer_is_404(client, admin):
    response = upload(client, admin.headers, HEADER + GOOD, slug="no-such-board")

    assert response.status_code == 404 and "no-such-board" in response.get_json()["message"]


def test_the_endpoint_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/admin/issuers/{slug}/roster"]["post"]

    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"200", "404", "413", "422"} <= set(post["responses"])
