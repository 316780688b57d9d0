"""The state machine, pair by pair, and expiry: at once on read, for good by `flask directory expire`."""

import io
import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

import directory.credentials.lifecycle as lifecycle
import directory.credentials.service as service
from directory.credentials.audit import verify_chain
from directory.credentials.models import Credential, CredentialEvent
from directory.credentials.standing import STATUSES
from directory.extensions import db
from directory.rules import RuleError
from directory.timeutil import today_utc
from tests.factories import PDF, PNG

_numbers = itertools.count(1)

# Written out here rather than read from MOVES, so the table checks the code instead of echoing it.
ALLOWED = {
    ("pending", "contest"): "contested",
    ("pending", "verify"): "verified",
    ("pending", "reject"): "rejected",
    ("contested", "verify"): "verified",
    ("contested", "reject"): "rejected",
    ("verified", "confirm"): "verified",
    ("verified", "revoke"): "revoked",
    ("verified", "expire"): "expired",
    ("verified", "lapse"): "lapsed",
    ("verified", "recheck"): "recheck",
    ("recheck", "verify"): "verified",
    ("recheck", "revoke"): "revoked",
    ("recheck", "resubmit"): "pending",
    ("lapsed", "verify"): "verified",
    ("lapsed", "revoke"): "revoked",
    ("lapsed", "resubmit"): "pending",
    ("rejected", "resubmit"): "pending",
    ("expired", "resubmit"): "pending",
}
ACTIONS = (
    "submit",
    "contest",
    "verify",
    "confirm",
    "reject",
    "revoke",
    "expire",
    "lapse",
    "recheck",
    "resubmit",
)
PATHS = {
    "pending": (),
    "contested": ("contest",),
    "verified": ("verify",),
    "recheck": ("verify", "recheck"),
    "lapsed": ("verify", "lapse"),
    "rejected": ("reject",),
    "revoked": ("verify", "revoke"),
    "expired": ("verify", "expire"),
}


def new_credential(
    user, expires_on: date | None = date(2030, 6, 1), issued_on=date(2015, 6, 1), **changes
) -> Credential:
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": f"CMT-{1000 + next(_numbers)}",
        "issued_on": issued_on,
        "expires_on": expires_on,
        "techniques": [],
        **changes,
    }
    return service.submit(user, data, FileStorage(io.BytesIO(PNG), "licence.png"))


def events_of(cid: int) -> list[CredentialEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CredentialEvent)
            .where(CredentialEvent.credential_id == cid)
            .order_by(CredentialEvent.id)
        )
    )


def moves(cid: int) -> list[tuple]:
    return [(e.from_status, e.to_status, e.actor, e.method) for e in events_of(cid)]


def actor_for(action, owner, admin):
    return {
        "expire": None,
        "contest": None,
        "lapse": None,
        "resubmit": owner,
        "submit": owner,
        "recheck": owner,
    }.get(action, admin)


def drive(credential, steps, owner, admin) -> None:
    for action in steps:
        lifecycle.transition(credential, action, actor_for(action, owner, admin), reason="Because")
        db.session.commit()


@pytest.fixture
def admin(factory):
    return factory.user("admin")


def test_the_table_covers_every_action():
    assert set(lifecycle.MOVES) == set(ACTIONS)
    assert set(STATUSES) == set(PATHS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_status_and_action(practitioner, admin, status, action):
    credential = new_credential(practitioner.user)
    drive(credential, PATHS[status], practitioner.user, admin)
    assert credential.status == status
    before = len(events_of(credential.id))
    actor = actor_for(action, practitioner.user, admin)
    target = ALLOWED.get((status, action))
    if target is None:
        with pytest.raises(RuleError) as refused:
            lifecycle.transition(credential, action, actor, reason="Because")
        assert refused.value.status == 409
        # Nothing was written, not even to the session: a query autoflushes whatever was.
        assert len(events_of(credential.id)) == before
        assert db.session.get(Credential, credential.id).status == status
        return
    event = lifecycle.transition(credential, action, actor, reason="Because")
    db.session.commit()
    events = events_of(credential.id)
    assert len(events) == before + 1 and events[-1].id == event.id
    assert (event.from_status, event.to_status) == (status, target)
    assert event.actor == (actor.email if actor else "system")
    assert event.method == lifecycle.MOVES[action][2]
    assert db.session.get(Credential, credential.id).status == target
    assert verify_chain()["broken"] == []


def test_verified_sets_when_and_how_and_resubmission_clears_them(practitioner, admin):
    credential = new_credential(practitioner.user)
    drive(credential, ("verify",), practitioner.user, admin)
    assert credential.verified_at is not None and credential.method == "document"
    drive(credential, ("expire", "resubmit"), practitioner.user, admin)
    assert credential.verified_at is None and credential.method is None


# --- expiry on read -----------------------------------------------------------------------------


def public_reads(client, practitioner, number: str) -> dict:
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": number}).get_json()
    found = client.get("/api/v1/search", query_string={"verified": "true"}).get_json()
    mine = client.get("/api/v1/me/credentials", headers=practitioner.headers).get_json()
    return {
        "profile": (profile["verified"], profile["credentials"][0]["status"]),
        "lookup": lookup["status"],
        "search": [r["id"] for r in found["results"]],
        "mine": mine[0]["status"],
    }


def expired_reads() -> dict:
    return {"profile": (False, "expired"), "lookup": "expired", "search": [], "mine": "expired"}


def test_past_its_expiry_a_credential_reads_expired_everywhere_at_once(client, practitioner, admin, clock):
    credential = new_credential(practitioner.user, expires_on=today_utc() + timedelta(days=5))
    drive(credential, ("verify",), practitioner.user, admin)
    live = {
        "profile": (True, "verified"),
        "lookup": "verified",
        "search": [practitioner.id],
        "mine": "verified",
    }
    assert public_reads(client, practitioner, credential.number) == live
    clock.advance(days=5)  # the last day it is valid
    assert public_reads(client, practitioner, credential.number) == live
    clock.advance(days=1)
    assert public_reads(client, practitioner, credential.number) == expired_reads()
    # Read as expired, written as verified until something writes the expiry down.
    assert db.session.get(Credential, credential.id).status == "verified"
    assert [m[1] for m in moves(credential.id)] == ["pending", "verified"]


def test_an_expiry_date_moved_into_the_past_reads_expired_at_once(client, practitioner, admin):
    credential = new_credential(practitioner.user)
    drive(credential, ("verify",), practitioner.user, admin)
    assert public_reads(client, practitioner, credential.number)["search"] == [practitioner.id]
    credential.expires_on = today_utc() - timedelta(days=1)
    db.session.commit()
    assert public_reads(client, practitioner, credential.number) == expired_reads()


def test_a_decision_on_a_lapsed_credential_is_409_and_writes_nothing(client, practitioner, admin, factory):
    credential = new_credential(practitioner.user, expires_on=today_utc() - timedelta(days=1))
    drive(credential, ("verify",), practitioner.user, admin)
    response = client.post(
        f"/api/v1/admin/credentials/{credential.id}/decision",
        json={"action": "revoke", "reason": "Board suspended it"},
        headers=factory.headers(admin),
    )
    assert response.status_code == 409, response.get_json()
    # The expiry that transition() writes first was rolled back with the refused move.
    assert [m[1] for m in moves(credential.id)] == ["pending", "verified"]
    assert db.session.get(Credential, credential.id).status == "verified"


def test_verifying_a_lapsed_credential_does_not_answer_verified(client, practitioner, factory, submit):
    cid = submit(practitioner.headers, expires_on=(today_utc() - timedelta(days=1)).isoformat()).get_json()[
        "id"
    ]
    response = client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": "verify"},
        headers=factory.headers(factory.user("admin")),
    )
    reads = client.get("/api/v1/me/credentials", headers=practitioner.headers).get_json()[0]["status"]
    assert reads == "expired"
    assert response.status_code >= 400 or response.get_json()["status"] == reads, response.get_json()


# --- the expire command -------------------------------------------------------------------------


def test_expire_command_writes_lapsed_ones_down_and_lists_the_soon_due(runner, practitioner, admin):
    today = today_utc()
    lapsed, soon, later, pending, forever = (
        new_credential(practitioner.user, expires_on=today - timedelta(days=1)),
        new_credential(practitioner.user, expires_on=today + timedelta(days=30)),
        new_credential(practitioner.user, expires_on=today + timedelta(days=31)),
        new_credential(practitioner.user, expires_on=today - timedelta(days=1)),
        new_credential(practitioner.user, expires_on=None),
    )
    today_due = new_credential(practitioner.user, expires_on=today)
    for credential in (lapsed, soon, later, forever, today_due):
        drive(credential, ("verify",), practitioner.user, admin)

    result = runner.invoke(args=["directory", "expire"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("expired")] == [f"#{lapsed.id}"]
    assert [line.split()[2] for line in lines if line.startswith("due soon")] == [
        f"#{today_due.id}",
        f"#{soon.id}",
    ]
    assert lines[-1] == (
        "1 expired now; 0 lapsed for want of a re-check; 2 expire within 30 days; 0 old signed records forgotten."
    )

    assert db.session.get(Credential, lapsed.id).status == "expired"
    last = events_of(lapsed.id)[-1]
    assert (last.from_status, last.to_status, last.actor, last.actor_id, last.method) == (
        "verified",
        "expired",
        "system",
        None,
        "expiry",
    )
    for credential, status in (
        (soon, "verified"),
        (later, "verified"),
        (pending, "pending"),
        (forever, "verified"),
    ):
        assert db.session.get(Credential, credential.id).status == status
    again = runner.invoke(args=["directory", "expire"])
    assert again.output.splitlines()[-1].startswith(
        "0 expired now; 0 lapsed for want of a re-check; 2 expire"
    )
    assert len(events_of(lapsed.id)) == 3
    assert runner.invoke(args=["directory", "audit-verify"]).exit_code == 0


# --- resubmitting what expired on read -----------------------------------------------------------


def resubmit(client, practitioner, cid, data=PDF, name="renewed.pdf"):
    return client.post(
        f"/api/v1/me/credentials/{cid}/evidence",
        data={"evidence": (io.BytesIO(data), name)},
        headers=practitioner.headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def lapsed(practitioner, admin):
    """Verified, with an expiry already past: expired on read, verified in the row."""
    credential = new_credential(practitioner.user, expires_on=today_utc() - timedelta(days=1))
    drive(credential, ("verify",), practitioner.user, admin)
    return credential


def test_resubmitting_an_expired_on_read_credential_writes_the_expiry_first(
    client, practitioner, admin, lapsed, runner
):
    response = resubmit(client, practitioner, lapsed.id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending" and [e["version"] for e in body["evidence"]] == [1, 2]
    assert moves(lapsed.id) == [
        (None, "pending", practitioner.user.email, "submission"),
        ("pending", "verified", admin.email, "document"),
        ("verified", "expired", "system", "expiry"),
        ("expired", "pending", practitioner.user.email, "submission"),
    ]
    assert runner.invoke(args=["directory", "audit-verify"]).exit_code == 0


def test_the_implied_expiry_event_names_the_evidence_it_expired(client, practitioner, lapsed):
    first = lapsed.evidence[0].sha256
    assert resubmit(client, practitioner, lapsed.id).status_code == 200
    expiry = events_of(lapsed.id)[2]
    assert expiry.to_status == "expired" and expiry.evidence_sha256 == first


def test_a_refused_resubmission_of_a_lapsed_credential_writes_nothing(client, practitioner, lapsed):
    response = resubmit(client, practitioner, lapsed.id, data=b"<html>nope</html>", name="x.pdf")
    assert response.status_code == 415, response.get_json()
    assert [m[1] for m in moves(lapsed.id)] == ["pending", "verified"]
    assert len(db.session.get(Credential, lapsed.id).evidence) == 1


# --- the public lookup --------------------------------------------------------------------------


def test_a_later_claim_of_the_same_number_does_not_hide_the_verified_holder(
    client, factory, practitioner, admin, submit
):
    credential = new_credential(practitioner.user)
    drive(credential, ("verify",), practitioner.user, admin)
    impostor = factory.practitioner()
    assert submit(factory.headers(impostor.user), number=credential.number).status_code == 201
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": credential.number})
    body = lookup.get_json()
    assert (body["status"], body["practitioner"]["id"]) == ("verified", practitioner.id)


# --- one move: its refusals, who it names, what it keeps and forgets ------------------------------

OWN = "You cannot decide on a credential of your own."
REASON = "Give a reason: the practitioner and the audit trail will see it."


def _refusal(credential, action, actor, reason):
    with pytest.raises(RuleError) as refused:
        lifecycle.transition(credential, action, actor, reason=reason)
    return refused.value.status, refused.value.message, refused.value.field


@pytest.mark.parametrize(
    "path, action, who, reason, expected",
    [
        ((), "publish", "admin", "Because", (422, "Unknown action publish.", "action")),
        ((), "", "admin", "Because", (422, "Unknown action .", "action")),
        ((), "Verify", "admin", "Because", (422, "Unknown action Verify.", "action")),
        ((), "reject", "admin", "", (422, REASON, "reason")),
        ((), "reject", "admin", " \t\n", (422, REASON, "reason")),
        (("verify",), "revoke", "admin", "", (422, REASON, "reason")),
        ((), "verify", "owner", "", (403, OWN, None)),
        ((), "reject", "owner", "Because", (403, OWN, None)),
        (("verify",), "confirm", "owner", "", (403, OWN, None)),
        (("verify",), "revoke", "owner", "Because", (403, OWN, None)),
        (
            ("reject",),
            "verify",
            "admin",
            "",
            (409, "A rejected credential cannot be moved by verify.", "action"),
        ),
        (
            ("verify",),
            "reject",
            "admin",
            "Because",
            (409, "A verified credential cannot be moved by reject.", "action"),
        ),
        (
            (),
            "revoke",
            "admin",
            "Because",
            (409, "A pending credential cannot be moved by revoke.", "action"),
        ),
    ],
)
def test_each_refusal_says_why_in_its_words_and_writes_nothing(
    practitioner, admin, path, action, who, reason, expected
):
    credential = new_credential(practitioner.user)
    drive(credential, path, practitioner.user, admin)
    before = moves(credential.id)
    actor = {"admin": admin, "owner": practitioner.user}[who]
    assert _refusal(credential, action, actor, reason) == expected
    assert moves(credential.id) == before


def test_an_admin_who_is_the_practitioner_cannot_judge_their_own_claim(factory, admin):
    both = factory.practitioner()
    both.user.role = "admin"
    db.session.commit()
    credential = new_credential(both.user)
    for action in ("verify", "reject"):
        assert _refusal(credential, action, both.user, "Because") == (403, OWN, None)
    # Another admin may; the refusal was about who, not about the move.
    lifecycle.transition(credential, "verify", admin)
    db.session.commit()
    assert credential.status == "verified"


def test_a_credential_submitted_once_cannot_be_submitted_again(practitioner):
    credential = new_credential(practitioner.user)
    assert _refusal(credential, "submit", practitioner.user, "") == (
        409,
        "This credential was submitted already.",
        None,
    )
    assert len(events_of(credential.id)) == 1


def test_the_event_names_the_account_that_acted_or_the_system(practitioner, admin):
    credential = new_credential(practitioner.user)
    event = lifecycle.transition(credential, "verify", admin)
    db.session.commit()
    assert (event.actor_id, event.actor) == (admin.id, admin.email)
    assert (event.reason, credential.reason) == ("", "")  # no reason given, none invented
    system = lifecycle.transition(credential, "lapse", None, reason="Roster silent")
    db.session.commit()
    assert (system.actor_id, system.actor, system.actor_ref) == (None, "system", "system")
    assert (system.reason, credential.reason) == ("Roster silent", "Roster silent")


def test_a_reason_is_kept_without_its_surrounding_blanks(practitioner, admin):
    credential = new_credential(practitioner.user)
    event = lifecycle.transition(credential, "reject", admin, reason="  Blurred scan \n")
    db.session.commit()
    assert (event.reason, credential.reason) == ("Blurred scan", "Blurred scan")


@pytest.mark.parametrize(
    "path, action, method",
    [
        (("verify",), "revoke", "revocation"),
        (("verify",), "expire", "expiry"),
        (("verify",), "lapse", "grace"),
        (("verify",), "recheck", "legal-name"),
        (("verify", "recheck"), "revoke", "revocation"),
    ],
)
def test_an_ending_leaves_its_method_on_the_credential(practitioner, admin, path, action, method):
    credential = new_credential(practitioner.user)
    drive(credential, path, practitioner.user, admin)
    actor = admin if action == "revoke" else None
    lifecycle.transition(credential, action, actor, reason="Because")
    db.session.commit()
    assert db.session.get(Credential, credential.id).method == method


def test_an_ending_keeps_a_method_the_caller_names(practitioner, admin):
    credential = new_credential(practitioner.user)
    drive(credential, ("verify",), practitioner.user, admin)
    lifecycle.transition(credential, "revoke", admin, reason="Struck off", method="roster")
    db.session.commit()
    assert db.session.get(Credential, credential.id).method == "roster"
    assert events_of(credential.id)[-1].method == "roster"


def test_a_confirmation_keeps_the_first_verification_and_moves_the_check(practitioner, admin, clock):
    credential = new_credential(practitioner.user)
    drive(credential, ("verify",), practitioner.user, admin)
    first = credential.verified_at
    clock.advance(days=40)
    lifecycle.transition(credential, "confirm", admin)
    db.session.commit()
    assert credential.verified_at == first
    assert first + timedelta(days=40) <= credential.checked_at <= clock.now()
    # A verification from another status is a new one.
    lifecycle.transition(credential, "recheck", None)
    clock.advance(days=1)
    lifecycle.transition(credential, "verify", admin)
    db.session.commit()
    assert credential.verified_at == credential.checked_at
    assert first + timedelta(days=41) <= credential.verified_at <= clock.now()


def test_expire_and_lapse_move_a_credential_that_already_reads_so(practitioner, admin, clock):
    # The roster and the expiry sweep call these on credentials that are past their end on read:
    # the move itself is the one event, not an implied one followed by a refusal.
    ended = new_credential(practitioner.user, expires_on=today_utc() + timedelta(days=2))
    stale = new_credential(practitioner.user, expires_on=None)
    drive(ended, ("verify",), practitioner.user, admin)
    drive(stale, ("verify",), practitioner.user, admin)
    clock.advance(days=400)  # past the expiry, and past a year's re-check and its grace
    lifecycle.transition(ended, "expire", None)
    lifecycle.transition(stale, "lapse", None, reason="Roster silent")
    db.session.commit()
    assert moves(ended.id)[-1] == ("verified", "expired", "system", "expiry")
    assert moves(stale.id)[-1] == ("verified", "lapsed", "system", "grace")
    assert [len(events_of(c.id)) for c in (ended, stale)] == [3, 3]
    assert events_of(stale.id)[-1].reason == "Roster silent"


def test_the_implied_expiry_gives_no_reason_and_the_implied_lapse_says_why(practitioner, admin, clock):
    ended = new_credential(practitioner.user, expires_on=today_utc() + timedelta(days=2))
    stale = new_credential(practitioner.user, expires_on=None)
    drive(ended, ("verify",), practitioner.user, admin)
    drive(stale, ("verify",), practitioner.user, admin)
    clock.advance(days=400)
    for credential in (ended, stale):
        lifecycle.transition(credential, "resubmit", practitioner.user)
    db.session.commit()
    implied = {c.id: events_of(c.id)[2] for c in (ended, stale)}
    assert (implied[ended.id].to_status, implied[ended.id].reason) == ("expired", "")
    assert (implied[stale.id].to_status, implied[stale.id].reason) == ("lapsed", lifecycle.GRACE_REASON)


NMT = ("neuromuscular-therapy", "trigger-point-therapy")


def confirmed(credential_id: int) -> set[str]:
    db.session.expire_all()
    return {t.slug for t in db.session.get(Credential, credential_id).confirmed_techniques}


def certificate(user) -> Credential:
    """A training-program certificate claiming both NMT techniques, none confirmed yet."""
    return new_credential(user, issuer="nmt-center", kind="certification", techniques=list(NMT))


def test_a_verification_keeps_every_fact_it_confirms(practitioner, admin):
    credential = certificate(practitioner.user)
    facts = lifecycle.Facts(
        legal_name="Casey Lin",
        issued_on=date(2012, 5, 1),
        expires_on=date(2031, 1, 31),
        techniques=("trigger-point-therapy",),
    )
    lifecycle.transition(credential, "verify", admin, facts=facts)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Credential, credential.id)
    assert (stored.verified_legal_name, stored.source_issued_on, stored.source_expires_on) == (
        "Casey Lin",
        date(2012, 5, 1),
        date(2031, 1, 31),
    )
    assert confirmed(credential.id) == {"trigger-point-therapy"}


def test_a_resubmission_forgets_its_confirmed_techniques_and_no_one_elses(practitioner, admin):
    mine, other = certificate(practitioner.user), certificate(practitioner.user)
    for credential in (mine, other):
        lifecycle.transition(
            credential,
            "verify",
            admin,
            facts=lifecycle.Facts("Casey Lin", techniques=("trigger-point-therapy",)),
        )
    db.session.commit()
    lifecycle.transition(mine, "recheck", None)
    lifecycle.transition(mine, "resubmit", practitioner.user)
    db.session.commit()
    assert confirmed(mine.id) == set()
    assert confirmed(other.id) == {"trigger-point-therapy"}  # not the other claim, and not every technique
    stored = db.session.get(Credential, mine.id)
    assert (stored.verified_at, stored.checked_at, stored.method, stored.verified_legal_name) == (
        None,
        None,
        None,
        None,
    )
