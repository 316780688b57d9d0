"""The batch path (lifecycle.transition_batch, which roster imports take): the same guards and the same
records as one move at a time, for many credentials in a few statements. Nothing of a refused batch is
written."""

import dataclasses
import io
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from directory.credentials import lifecycle, service
from directory.credentials.lifecycle import Facts
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import RuleError
from tests.factories import PNG

ISSUED, ENDS = date(2016, 3, 1), date(2031, 3, 1)


def claim(user, number: str) -> Credential:
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": number,
        "issued_on": date(2015, 6, 1),
        "expires_on": date(2030, 6, 1),
        "techniques": [],
    }
    return service.submit(user, data, FileStorage(io.BytesIO(PNG), "licence.png"))


def verified(user, number: str) -> Credential:
    credential = claim(user, number)
    lifecycle.transition(credential, "verify", None, facts=Facts("Casey Lin", ISSUED, ENDS))
    db.session.commit()
    return credential


def item(credential: Credential, **changed) -> lifecycle.BatchItem:
    """The credential as a caller reads it now (changed: as it read it earlier)."""
    read = lifecycle.BatchItem(
        credential.id,
        credential.status,
        credential.version,
        credential.practitioner_id,
        credential.practitioner.user_id,
        facts=Facts("Casey Lin"),
        reason="Roster line 2.",
    )
    return dataclasses.replace(read, **changed)


def written() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        sa.select(Credential.id, Credential.status, Credential.version).order_by(Credential.id)
    ).all() + [(db.session.scalar(sa.select(sa.func.count()).select_from(CredentialEvent)),)]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("confirm", "Only verified credentials can be moved by confirm."),
        ("lapse", "Only verified credentials can be moved by lapse."),
        ("verify", "Only pending, contested, recheck, lapsed credentials can be moved by verify."),
    ],
)
def test_a_batch_with_one_credential_in_the_wrong_state_is_409_and_moves_none(
    practitioner, admin, action, message
):
    right = (
        verified(practitioner.user, "CMT-1001")
        if action != "verify"
        else claim(practitioner.user, "CMT-1001")
    )
    wrong = (
        claim(practitioner.user, "CMT-1002")
        if action != "verify"
        else verified(practitioner.user, "CMT-1002")
    )
    db.session.commit()
    before = written()

    with pytest.raises(RuleError) as refused:
        lifecycle.transition_batch([item(right), item(wrong)], action, admin, "roster")

    assert (refused.value.status, refused.value.message) == (409, message)
    db.session.rollback()
    assert written() == before


@pytest.mark.parametrize(("action", "refused"), [("verify", True), ("confirm", True), ("lapse", False)])
def test_no_one_judges_a_credential_of_their_own_in_a_batch(practitioner, action, refused):
    own = (
        claim(practitioner.user, "CMT-1001")
        if action == "verify"
        else verified(practitioner.user, "CMT-1001")
    )
    db.session.commit()
    before = written()

    if refused:
        with pytest.raises(RuleError) as error:
            lifecycle.transition_batch([item(own)], action, practitioner.user, "roster")
        assert (error.value.status, error.value.message) == (
            403,
            "You cannot decide on a credential of your own.",
        )
        db.session.rollback()
        assert written() == before
    else:  # what a roster says of the admin's own credential is not their judgement
        lifecycle.transition_batch([item(own)], action, practitioner.user, "roster")
        db.session.commit()
        assert db.session.get(Credential, own.id).status == "lapsed"


def test_a_credential_changed_since_it_was_read_fails_the_whole_batch(practitioner, admin):
    first, second = verified(practitioner.user, "CMT-1001"), verified(practitioner.user, "CMT-1002")
    read_earlier = item(second)
    lifecycle.transition(second, "confirm", admin, facts=Facts("Casey Lin"))  # someone else, meanwhile
    db.session.commit()
    before = written()

    with pytest.raises(RuleError) as refused:
        lifecycle.transition_batch([item(first), read_earlier], "confirm", admin, "roster")

    assert (refused.value.status, refused.value.message) == (
        409,
        "A credential changed while the batch was being applied.",
    )
    db.session.rollback()
    assert written() == before


def test_a_version_only_moves_forward_so_a_read_from_before_two_changes_stays_stale(practitioner, admin):
    credential = verified(practitioner.user, "CMT-1001")
    read_first = item(credential)
    lifecycle.transition(credential, "confirm", admin, facts=Facts("Casey Lin"))
    db.session.commit()
    lifecycle.transition_batch([item(credential)], "confirm", admin, "roster")
    db.session.commit()

    with pytest.raises(RuleError) as refused:
        lifecycle.transition_batch([read_first], "lapse", admin, "roster")
    assert refused.value.status == 409


def test_a_batch_event_names_the_evidence_as_a_single_move_does(practitioner, admin):
    one, many = verified(practitioner.user, "CMT-1001"), claim(practitioner.user, "CMT-1002")
    db.session.commit()
    lifecycle.transition_batch([item(many)], "verify", admin, "roster")
    db.session.commit()

    def last_event(credential) -> CredentialEvent:
        return db.session.scalars(
            sa.select(CredentialEvent)
            .where(CredentialEvent.credential_id == credential.id)
            .order_by(CredentialEvent.id.desc())
        ).first()

    for credential in (one, many):
        evidence = db.session.get(Credential, credential.id).evidence[-1]
        assert last_event(credential).evidence_sha256 == evidence.sha256 != ""


@pytest.mark.parametrize("path", ["one move", "batch"])
@pytest.mark.parametrize(
    ("shown", "kept"),
    [
        (Facts("Casey A. Lin"), (ISSUED, ENDS)),  # a source without dates leaves those confirmed before
        (Facts("Casey A. Lin", date(2017, 1, 1), date(2032, 1, 1)), (date(2017, 1, 1), date(2032, 1, 1))),
    ],
    ids=["no dates", "new dates"],
)
def test_a_confirmation_keeps_the_source_dates_it_does_not_show(practitioner, admin, path, shown, kept):
    credential = verified(practitioner.user, "CMT-1001")

    if path == "batch":
        lifecycle.transition_batch([item(credential, facts=shown)], "confirm", admin, "roster")
    else:
        lifecycle.transition(credential, "confirm", admin, facts=shown)
    db.session.commit()

    db.session.expire_all()
    again = db.session.get(Credential, credential.id)
    assert (again.source_issued_on, again.source_expires_on) == kept
    assert again.ends_on == kept[1]
    assert again.verified_legal_name == "Casey A. Lin"  # the name the source showed this time


def test_a_batch_verification_writes_who_was_confirmed_and_when(practitioner, admin, clock):
    first, again = claim(practitioner.user, "CMT-1001"), verified(practitioner.user, "CMT-1002")
    verified_at = db.session.get(Credential, again.id).verified_at
    clock.advance(days=3)

    lifecycle.transition_batch([item(first)], "verify", admin, "roster")
    lifecycle.transition_batch([item(again)], "confirm", admin, "roster")
    db.session.commit()

    db.session.expire_all()
    now = clock.now()
    for credential in (first, again):
        moved = db.session.get(Credential, credential.id)
        assert moved.verified_legal_name == "Casey Lin"
        assert abs(moved.checked_at - now).total_seconds() < 60  # its re-check falls due a year from now
    # The first verification is dated now; a re-confirmation keeps the day it was first verified.
    assert abs(db.session.get(Credential, first.id).verified_at - now).total_seconds() < 60
    assert db.session.get(Credential, again.id).verified_at == verified_at


def test_a_batch_verification_states_what_the_source_confirmed(practitioner, admin):
    pending = claim(practitioner.user, "CMT-1001")
    db.session.commit()

    with pytest.raises(ValueError, match="^a batch verification states the facts the source confirmed$"):
        lifecycle.transition_batch([item(pending, facts=None)], "verify", admin, "roster")


def test_a_batch_event_names_the_latest_evidence_of_a_resubmitted_claim(practitioner, admin):
    credential = claim(practitioner.user, "CMT-1001")
    lifecycle.transition(credential, "reject", admin, reason="Unreadable.")
    db.session.commit()
    service.resubmit(practitioner.user, credential.id, FileStorage(io.BytesIO(PNG + b"2"), "again.png"))
    db.session.commit()

    lifecycle.transition_batch([item(db.session.get(Credential, credential.id))], "verify", admin, "roster")
    db.session.commit()

    db.session.expire_all()
    versions = db.session.get(Credential, credential.id).evidence
    event = db.session.scalars(
        sa.select(CredentialEvent)
        .where(CredentialEvent.credential_id == credential.id)
        .order_by(CredentialEvent.id.desc())
    ).first()
    assert len(versions) == 2 and versions[0].sha256 != versions[1].sha256
    assert event.evidence_sha256 == versions[-1].sha256


def test_a_batch_moves_only_its_credentials_and_records_who_moved_them_how(practitioner, admin):
    moved, left = claim(practitioner.user, "CMT-1001"), claim(practitioner.user, "CMT-1002")
    db.session.commit()  # both pending, at the same version

    lifecycle.transition_batch([item(moved)], "verify", admin, "roster")
    db.session.commit()

    db.session.expire_all()
    assert (db.session.get(Credential, moved.id).status, db.session.get(Credential, left.id).status) == (
        "verified",
        "pending",
    )
    assert db.session.get(Credential, moved.id).method == "roster"
    events = db.session.execute(
        sa.select(
            CredentialEvent.credential_id,
            CredentialEvent.from_status,
            CredentialEvent.to_status,
            CredentialEvent.actor,
            CredentialEvent.method,
            CredentialEvent.reason,
        ).order_by(CredentialEvent.id)
    ).all()
    assert events[-1] == (moved.id, "pending", "verified", admin.email, "roster", "Roster line 2.")
    assert [e for e in events if e.credential_id == left.id] == [
        (left.id, None, "pending", practitioner.user.email, "submission", "")
    ]
