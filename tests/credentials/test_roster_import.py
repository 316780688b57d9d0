"""The roster import's report and safeguards: who may run it, what it accounts for, what it shows on a
terminal, its limits for a request, and what happens when a credential changes while it is applied."""

import hashlib
import logging
import threading
import types
from datetime import date

import pytest
import sqlalchemy as sa
from tqdm import tqdm

from directory.credentials import lifecycle, roster
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import RuleError
from tests.credentials.roster_kit import HEADER, event_count, status_of, upload, verify_by_document


def last_reason(credential_id: int) -> str:
    return db.session.scalars(
        sa.select(CredentialEvent.reason)
        .where(CredentialEvent.credential_id == credential_id)
        .order_by(CredentialEvent.id.desc())
    ).first()


@pytest.mark.parametrize("role", ["client", "practitioner"])
def test_only_an_admin_account_imports_a_roster(client, factory, holder, role):
    casey = holder("Casey Lin", "CMT-1001")
    events = event_count()

    with pytest.raises(RuleError) as refused:
        roster.import_roster(factory.user(role), "camtc", (HEADER + "CMT-1001,Casey Lin,active,\n").encode())

    assert (refused.value.status, refused.value.message) == (403, "Only an admin imports rosters.")
    assert status_of(casey.credential_id) == ("pending", None) and event_count() == events


def test_no_acting_admin_is_refused_too(app):
    with pytest.raises(RuleError) as refused:
        roster.import_roster(None, "camtc", (HEADER + "CMT-1001,Casey Lin,active,\n").encode())

    assert (refused.value.status, refused.value.message) == (403, "Only an admin imports rosters.")


def test_the_report_names_the_issuer_the_file_s_digest_and_the_time_taken(client, admin, holder, monkeypatch):
    holder("Casey Lin", "CMT-1001")
    body = (HEADER + "CMT-1001,Casey Lin,active,\n").encode()
    clock = iter([100.0, 101.23456])
    monkeypatch.setattr(roster, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))

    result = upload(client, admin.headers, body, dry_run="true").get_json()

    assert result["issuer"] == "camtc"
    assert result["sha256"] == hashlib.sha256(body).hexdigest()  # the admin can tell which file it was
    assert result["seconds"] == 1.235  # to the millisecond


def test_every_claim_of_the_issuer_is_accounted_for_whatever_the_order_of_lines(client, admin, holder):
    on_file = holder("Casey Lin", "CMT-1001")
    missing = holder("Jordan Park", "CMT-2002")
    for p in (on_file, missing):
        verify_by_document(client, admin, p.credential_id)
    waiting = [holder("Pat Doe", "CMT-3003"), holder("Robin Roe", "CMT-4004")]
    # A number nobody claims comes first: the lines after it still count.
    body = HEADER + "CMT-9999,Someone Else,active,\nCMT-1001,Casey Lin,active,\n"

    result = upload(client, admin.headers, body).get_json()

    assert (result["rows"], result["matched"], result["confirmed"], result["lapsed"]) == (2, 1, 1, 1)
    assert result["details"]["confirmed"] == [on_file.credential_id]
    assert [(x["credential_id"], x["reason"]) for x in result["details"]["lapsed"]] == [
        (missing.credential_id, "Not on the roster.")
    ]
    # Pending claims the file does not name are counted for the admin, and left as they are.
    assert result["details"]["pending_not_on_roster"] == 2
    assert all(status_of(p.credential_id) == ("pending", None) for p in waiting)
    assert status_of(on_file.credential_id) == ("verified", "roster")
    assert status_of(missing.credential_id) == ("lapsed", "roster")
    assert last_reason(missing.credential_id) == "Not on the issuer's roster."


def test_a_roster_touches_only_its_issuer_s_active_claims_with_a_canonical_number(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    elsewhere = holder("Jordan Park", "123456-00", issuer="ncbtmb", kind="certification")
    refused = holder("Robin Roe", "CMT-3003")
    old_number = holder("Jamie Fox", "CMT-4004")
    ran_out = holder("Pat Doe", "CMT-5005")
    for p in (elsewhere, old_number, ran_out):
        verify_by_document(client, admin, p.credential_id)
    decided = client.post(
        f"/api/v1/admin/credentials/{refused.credential_id}/decision",
        json={"action": "reject", "reason": "Illegible scan"},
        headers=admin.headers,
    )
    assert decided.status_code == 200, decided.get_json()
    # A number on record from before the issuer's format was known has no canonical form; a badge that
    # ran out already reads as expired: neither has a badge a roster could lapse.
    db.session.execute(
        sa.update(Credential).where(Credential.id == old_number.credential_id).values(number_key=None)
    )
    db.session.execute(
        sa.update(Credential)
        .where(Credential.id == ran_out.credential_id)
        .values(expires_on=date(2020, 1, 1), source_expires_on=date(2020, 1, 1))
    )
    db.session.commit()
    body = HEADER + "CMT-1001,Casey Lin,active,\nCMT-3003,Robin Roe,active,\n"

    response = upload(client, admin.headers, body)

    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["matched"], result["verified"], result["lapsed"]) == (1, 1, 0)
    assert result["details"]["lapsed"] == []
    assert status_of(casey.credential_id) == ("verified", "roster")
    assert status_of(refused.credential_id)[0] == "rejected"
    for p in (elsewhere, old_number, ran_out):
        assert status_of(p.credential_id) == ("verified", "document")
    # The public lookup names the holder by the legal name the roster confirmed.
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()
    assert lookup["practitioner"]["legal_name"] == "Casey Lin"


def test_the_import_is_logged_as_a_security_event(client, admin, holder, caplog):
    caplog.set_level(logging.INFO, logger="directory")
    holder("Casey Lin", "CMT-1001")
    holder("Jordan Park", "CMT-2002")
    body = HEADER + "CMT-1001,Casey Lin,active,\nCMT-2002,Jordan Park,active,\nCMT-9999,A Person,active,\n"

    assert upload(client, admin.headers, body).status_code == 200

    (event,) = [r for r in caplog.records if getattr(r, "event", None) == "roster.import"]
    assert (event.getMessage(), event.issuer, event.changes, event.rows) == ("roster.import", "camtc", 2, 3)


def test_a_dry_run_logs_no_import(client, admin, holder, caplog):
    caplog.set_level(logging.INFO, logger="directory")
    holder("Casey Lin", "CMT-1001")

    assert (
        upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n", dry_run="true").status_code
        == 200
    )

    assert not [r for r in caplog.records if getattr(r, "event", None) == "roster.import"]


def test_a_request_applies_up_to_its_limit_of_changes(app, client, admin, holder):
    app.config["ROSTER_REQUEST_MAX_CHANGES"] = 2
    people = [holder(f"Casey Lin{n}", f"CMT-{1000 + n}") for n in range(3)]
    line = "CMT-{},Casey Lin{},active,\n"
    events = event_count()

    over = upload(client, admin.headers, HEADER + "".join(line.format(1000 + n, n) for n in range(3)))

    assert over.status_code == 413, over.get_json()
    payload = over.get_json()
    message = (
        "This roster changes 3 credentials; a request applies at most 2. Nothing was applied: run "
        "`flask --app wsgi directory import-roster camtc FILE` on a server, or check it here with a dry run."
    )
    assert (payload["code"], payload["message"], payload["errors"]) == (413, message, {"file": [message]})
    assert event_count() == events
    assert all(status_of(p.credential_id) == ("pending", None) for p in people)

    at_limit = upload(client, admin.headers, HEADER + "".join(line.format(1000 + n, n) for n in range(2)))

    assert at_limit.status_code == 200, at_limit.get_json()
    assert [status_of(p.credential_id)[0] for p in people] == ["verified", "verified", "pending"]


def test_the_command_line_has_no_limit_and_shows_no_progress_off_a_terminal(client, admin, holder, capsys):
    people = [holder(f"Casey Lin{n}", f"CMT-{1000 + n}") for n in range(3)]
    body = HEADER + "".join(f"CMT-{1000 + n},Casey Lin{n},active,\n" for n in range(3))

    result = roster.import_roster(admin, "camtc", body.encode())  # as the command calls it off a terminal

    assert (result["dry_run"], result["verified"]) == (False, 3)
    assert all(status_of(p.credential_id) == ("verified", "roster") for p in people)
    err = capsys.readouterr().err
    assert "Matching roster" not in err and "Applying" not in err


def test_on_a_terminal_the_import_shows_its_progress(client, admin, holder, capsys, monkeypatch):
    # A lock of this test's own and no monitor thread: tqdm's default lock is a semaphore shared with every
    # process forked from this one (the mutation run forks one a mutant), and one stopped mid-bar left it held.
    monkeypatch.setattr(tqdm, "_lock", threading.RLock(), raising=False)
    monkeypatch.setattr(tqdm, "monitor_interval", 0)
    people = [holder(f"Casey Lin{n}", f"CMT-{1000 + n}") for n in range(2)]
    body = HEADER + "CMT-1000,Casey Lin0,active,\nCMT-1001,Casey Lin1,active,\nCMT-9999,A Person,active,\n"

    result = roster.import_roster(admin, "camtc", body.encode(), progress=True)

    assert result["verified"] == 2
    assert all(status_of(p.credential_id) == ("verified", "roster") for p in people)
    err = capsys.readouterr().err
    assert "Matching roster: 100%" in err and "3/3" in err and " rows/s]" in err
    assert "Applying: 100%" in err and "2/2" in err and " credentials/s]" in err


def test_a_credential_changed_while_the_roster_is_applied_is_a_409_and_nothing_is_applied(
    client, admin, factory, holder, monkeypatch
):
    casey = holder("Casey Lin", "CMT-1001")
    jordan = holder("Jordan Park", "CMT-2002")
    colleague = factory.user("admin")
    planned = roster._plan

    def plan_then_a_colleague_decides(*args):
        plan = planned(*args)
        # Another admin rejects Jordan's claim after the roster was read, before it is applied.
        lifecycle.transition(db.session.get(Credential, jordan.credential_id), "reject", colleague, "Expired")
        db.session.flush()
        return plan

    monkeypatch.setattr(roster, "_plan", plan_then_a_colleague_decides)
    events = event_count()
    body = HEADER + "CMT-1001,Casey Lin,active,\nCMT-2002,Jordan Park,active,\n"

    response = upload(client, admin.headers, body)

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["message"] == (
        "A credential changed while the roster was being applied, so nothing was applied. "
        "Upload the roster again."
    )
    assert status_of(casey.credential_id) == ("pending", None)
    assert event_count() == events


def test_the_public_feed_lists_one_import_s_lapses_in_credential_order(client, admin, holder):
    # Claimed in the opposite order of their numbers: the feed follows the credentials, not the numbers.
    later_number = holder("Casey Lin", "CMT-2002")
    earlier_number = holder("Jordan Park", "CMT-1001")
    for p in (later_number, earlier_number):
        verify_by_document(client, admin, p.credential_id)
    before = client.get("/api/v1/verification-events").get_json()["next_after"]

    upload(client, admin.headers, HEADER + "CMT-9999,A Person,active,\n")

    events = client.get("/api/v1/verification-events", query_string={"after": before}).get_json()["events"]
    assert [(e["credential_id"], e["to_status"]) for e in events] == [
        (later_number.credential_id, "lapsed"),
        (earlier_number.credential_id, "lapsed"),
    ]


def test_an_import_refreshes_the_planners_statistics_of_what_it_moved_on_postgresql(admin, holder):
    # Only PostgreSQL keeps planner statistics (SQLite has none to refresh): ANALYZE sets reltuples.
    holder("Casey Lin", "CMT-1001")
    holder("Dana Wu", "CMT-1002")
    roster.import_roster(
        admin, "camtc", (HEADER + "CMT-1001,Casey Lin,active,\nCMT-1002,Dana Wu,active,\n").encode()
    )
    if db.engine.dialect.name == "postgresql":
        planned = "SELECT reltuples FROM pg_class WHERE relname = :t"
        for table, model in (("credentials", Credential), ("credential_events", CredentialEvent)):
            counted = db.session.scalar(sa.select(sa.func.count()).select_from(model))
            assert db.session.scalar(sa.text(planned), {"t": table}) == counted, table
