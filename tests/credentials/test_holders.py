"""One holder per credential: a number claimed by two accounts is contested, and only an admin settles it."""

import pytest
import sqlalchemy as sa

from directory.credentials.models import Credential
from directory.extensions import db
from tests.credentials.roster_kit import HEADER, status_of, upload, verify_by_document


def decide(client, admin, cid, action, **extra):
    return client.post(
        f"/api/v1/admin/credentials/{cid}/decision", json={"action": action, **extra}, headers=admin.headers
    )


def lookup(client, number="CMT-1001"):
    return client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": number})


def test_a_second_claimant_makes_both_claims_contested(client, admin, holder):
    first = holder("Casey Lin", "CMT-1001")
    second = holder("Jordan Park", "cmt 1001")  # the same number, spelled otherwise

    assert status_of(first.credential_id)[0] == "contested"
    assert status_of(second.credential_id)[0] == "contested"
    mine = client.get("/api/v1/me/credentials", headers=second.headers).get_json()
    assert mine[0]["status"] == "contested" and "Another account claims" in mine[0]["reason"]
    # Neither claimant is shown the other, and the public sees no contest at all.
    assert "Casey" not in str(mine)
    public = client.get(f"/api/v1/practitioners/{first.id}").get_json()["credentials"][0]
    assert public["status"] == "pending" and public["label"] == "pending"
    assert lookup(client).status_code == 404


def test_a_verified_holder_stays_verified_and_the_newcomer_is_contested(client, admin, holder):
    real = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, real.credential_id)
    squatter = holder("Jordan Park", "CMT-1001")

    assert status_of(real.credential_id) == ("verified", "document")
    assert status_of(squatter.credential_id)[0] == "contested"
    found = lookup(client).get_json()
    assert found["practitioner"] == {"id": real.id, "display_name": "Casey Lin", "legal_name": "Casey Lin"}


def test_a_squatter_who_claims_first_cannot_pre_empt_the_real_holder(client, admin, holder):
    squatter = holder("Jordan Park", "CMT-1001")
    real = holder("Casey Lin", "CMT-1001")

    # Not verified in bulk, not by a roster naming the real holder, not by a plain verify.
    roster = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n").get_json()
    assert roster["verified"] == 0 and roster["contested"] == 2
    assert status_of(real.credential_id)[0] == status_of(squatter.credential_id)[0] == "contested"

    # The admin compares both side by side, then gives the number to the real holder.
    view = client.get(f"/api/v1/admin/credentials/{real.credential_id}", headers=admin.headers).get_json()
    assert [(r["id"], r["practitioner"]["legal_name"]) for r in view["rivals"]] == [
        (squatter.credential_id, "Jordan Park"),
        (real.credential_id, "Casey Lin"),
    ]
    assert decide(client, admin, real.credential_id, "verify").status_code == 200
    assert status_of(real.credential_id)[0] == "verified"
    assert status_of(squatter.credential_id)[0] == "rejected"
    assert lookup(client).get_json()["practitioner"]["id"] == real.id


def test_giving_the_number_to_a_newcomer_revokes_a_wrongly_verified_holder(client, admin, holder, runner):
    squatter = holder("Jordan Park", "CMT-1001")
    verify_by_document(client, admin, squatter.credential_id)
    real = holder("Casey Lin", "CMT-1001")

    assert decide(client, admin, real.credential_id, "verify").status_code == 200

    assert status_of(squatter.credential_id) == ("revoked", "revocation")
    assert lookup(client).get_json()["practitioner"]["id"] == real.id
    feed = client.get("/api/v1/verification-events").get_json()["events"]
    assert [(e["credential_id"], e["from_status"], e["to_status"]) for e in feed] == [
        (squatter.credential_id, "pending", "verified"),
        (squatter.credential_id, "verified", "revoked"),
        (real.credential_id, "pending", "verified"),  # contested reads as pending in public
    ]
    assert runner.invoke(args=["directory", "audit-verify"]).exit_code == 0


def test_the_same_account_cannot_claim_a_number_twice(practitioner, submit):
    assert submit(practitioner.headers).status_code == 201
    again = submit(practitioner.headers, number="cmt-1001")

    assert again.status_code == 409 and list(again.get_json()["errors"]) == ["number"]


def test_a_rejected_claim_no_longer_counts(client, admin, holder):
    first = holder("Casey Lin", "CMT-1001")
    decide(client, admin, first.credential_id, "reject", reason="Not a licence")
    second = holder("Jordan Park", "CMT-1001")

    assert status_of(second.credential_id)[0] == "pending"


def test_the_database_itself_refuses_two_holders(client, admin, holder):
    a = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, a.credential_id)
    b = holder("Jordan Park", "CMT-1001")

    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Credential).where(Credential.id == b.credential_id).values(status="verified")
        )
        db.session.flush()
    db.session.rollback()


def test_at_most_twenty_claims_wait_for_a_decision(app, practitioner, submit, client, admin):
    for n in range(20):
        assert submit(practitioner.headers, number=f"CMT-{2000 + n}").status_code == 201
    refused = submit(practitioner.headers, number="CMT-3000")

    assert refused.status_code == 409 and "20 claims waiting for a decision" in refused.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential)) == 20
    # A decision makes room again.
    first = db.session.scalar(sa.select(Credential.id).order_by(Credential.id).limit(1))
    assert decide(client, admin, first, "reject", reason="Blurred").status_code == 200
    assert submit(practitioner.headers, number="CMT-3000").status_code == 201


def test_verifying_a_number_someone_else_holds_needs_the_contest(client, admin, holder):
    a = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, a.credential_id)
    b = holder("Jordan Park", "CMT-1001")
    decide(client, admin, b.credential_id, "reject", reason="Not theirs")

    again = decide(client, admin, b.credential_id, "verify")

    assert again.status_code == 409 and status_of(a.credential_id)[0] == "verified"
