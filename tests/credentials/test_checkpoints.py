"""Signed checkpoints of the audit log: a log cut short at its newest end no longer passes unnoticed."""

import http.server
import json
import threading

import pytest
import sqlalchemy as sa

from directory.accounts.models import User
from directory.credentials import checkpoints
from directory.credentials.models import AuditCheckpoint, CredentialEvent
from directory.extensions import db
from tests.credentials.roster_kit import HEADER, offline_check, upload, verify_by_document


@pytest.fixture
def history(client, practitioner, admin, submit):
    """Two credentials, one verified then revoked: four events."""
    first = submit(practitioner.headers).get_json()["id"]
    verify_by_document(client, admin, first)
    client.post(
        f"/api/v1/admin/credentials/{first}/decision",
        json={"action": "revoke", "reason": "Board suspended it"},
        headers=admin.headers,
    )
    second = submit(practitioner.headers, number="CMT-2002").get_json()["id"]
    return {"first": first, "second": second}


def keep(client, tmp_path, name="kept.json"):
    """What a mirror does: fetch the public checkpoint and keep the file."""
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200, response.get_json()
    path = tmp_path / name
    path.write_text(response.get_data(as_text=True))
    return path


def audit_against(runner, path):
    result = runner.invoke(args=["directory", "audit-verify", "--checkpoint", str(path)])
    return result.exit_code, result.output


def test_nothing_is_published_before_the_first_checkpoint(client):
    assert client.get("/api/v1/audit/checkpoint").status_code == 404


def test_the_command_publishes_a_signed_checkpoint_anyone_can_check(client, runner, history):
    made = runner.invoke(args=["directory", "checkpoint"])
    assert made.exit_code == 0 and "4 events" in made.output, made.output

    body = client.get("/api/v1/audit/checkpoint").get_json()
    claims = offline_check(body["jws"], client.get("/.well-known/jwks.json").get_json()).claims
    newest = db.session.scalar(sa.select(CredentialEvent).order_by(CredentialEvent.id.desc()).limit(1))
    assert claims["typ"] == "audit-checkpoint" and claims["iss"] == "http://127.0.0.1:5000"
    assert (claims["count"], claims["last_event_id"], claims["last_hash"]) == (4, newest.id, newest.hash)
    assert body["digest"] == claims["digest"]


def test_an_intact_log_passes_against_a_kept_checkpoint_and_later_events_do_not_matter(
    client, runner, history, tmp_path, submit, practitioner
):
    checkpoints.publish()
    path = keep(client, tmp_path)
    submit(practitioner.headers, number="CMT-3003")  # the log grows after the checkpoint

    code, output = audit_against(runner, path)

    assert code == 0, output
    assert "Checkpoint of 4 events" in output and "Audit chain intact: 5 events" in output


def test_deleting_the_newest_event_with_a_matching_status_edit_is_caught(client, runner, history, tmp_path):
    checkpoints.publish()
    path = keep(client, tmp_path)
    newest = db.session.scalar(sa.select(sa.func.max(CredentialEvent.id)))
    # The cut a chain cannot see: the revocation is deleted and the status put back to verified.
    db.session.execute(sa.text("DELETE FROM credential_events WHERE id = :id"), {"id": newest - 1})
    db.session.execute(sa.text("DELETE FROM credential_events WHERE id = :id"), {"id": newest})
    db.session.execute(
        sa.text("UPDATE credentials SET status = 'verified' WHERE id = :id"), {"id": history["first"]}
    )
    db.session.execute(sa.text("DELETE FROM credentials WHERE id = :id"), {"id": history["second"]})
    db.session.commit()

    plain = runner.invoke(args=["directory", "audit-verify"])
    assert plain.exit_code == 0, "the chains alone cannot tell"
    code, output = audit_against(runner, path)
    assert code == 1
    assert "CUT SHORT: The log holds 2 events up to event" in output and "2 are missing" in output
    assert f"Event {newest}, the newest the checkpoint signed, is gone." in output


def test_an_event_replaced_before_the_checkpoint_is_caught(client, runner, history, tmp_path):
    checkpoints.publish()
    path = keep(client, tmp_path)
    first = db.session.scalar(sa.select(sa.func.min(CredentialEvent.id)))
    db.session.execute(
        sa.text("UPDATE credential_events SET hash = :h WHERE id = :id"), {"h": "f" * 64, "id": first}
    )
    db.session.commit()

    code, output = audit_against(runner, path)

    assert code == 1 and "digest differs" in output and "BROKEN" in output


def test_a_forged_or_unreadable_checkpoint_is_refused(client, runner, history, tmp_path):
    checkpoints.publish()
    body = client.get("/api/v1/audit/checkpoint").get_json()
    header, payload, signature = body["jws"].split(".")
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"jws": f"{header}.{payload[:-4]}AAAA.{signature}"}))
    missing = tmp_path / "missing.json"
    for path, words in ((forged, "not a record signed by this site"), (missing, "No such file")):
        result = runner.invoke(args=["directory", "audit-verify", "--checkpoint", str(path)])
        assert (
            result.exit_code != 0 and "Cannot read the checkpoint" in result.output and words in result.output
        )


def test_a_checkpoint_is_checked_from_a_url_too(client, runner, history):
    checkpoints.publish()
    body = client.get("/api/v1/audit/checkpoint").get_data()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  # the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/v1/audit/checkpoint"
        result = runner.invoke(args=["directory", "audit-verify", "--checkpoint", url])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0 and "Checkpoint of 4 events" in result.output, result.output


def test_each_checkpoint_carries_the_digest_on(client, runner, history, submit, practitioner, tmp_path):
    first = checkpoints.publish()
    assert checkpoints.publish().id == first.id  # nothing new: the same checkpoint
    submit(practitioner.headers, number="CMT-3003")
    second = checkpoints.publish()
    assert second.id != first.id and second.event_count == first.event_count + 1
    # The incremental digest equals one computed from nothing.
    db.session.execute(sa.delete(AuditCheckpoint))
    db.session.commit()
    assert checkpoints.publish().digest == second.digest


def test_a_roster_import_publishes_a_checkpoint(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n")

    newest = checkpoints.latest()
    assert newest is not None
    last = db.session.scalar(sa.select(sa.func.max(CredentialEvent.id)))
    assert newest.last_event_id == last and casey


def test_deleting_a_person_later_breaks_no_chain_and_no_kept_checkpoint(
    client, runner, history, admin, tmp_path
):
    checkpoints.publish()
    path = keep(client, tmp_path)
    # The admin who decided leaves; their account (and email) go, the pseudonym in the hashes stays.
    db.session.execute(sa.delete(User).where(User.id == admin.id))
    db.session.execute(
        sa.text("UPDATE credential_events SET actor = 'a former admin' WHERE actor_id IS NULL")
    )
    db.session.commit()

    code, output = audit_against(runner, path)

    assert code == 0, output
    hashed = db.session.scalars(sa.select(CredentialEvent.actor_ref)).all()
    assert all(ref == "system" or ref.startswith("user:") for ref in hashed)
    assert not any("@" in ref for ref in hashed)


def test_the_indexer_loop_publishes_when_an_hour_has_passed(app, history, clock):
    from directory.search.follower import Follower
    from directory.search.node import node

    follower = Follower(node())
    follower.step()
    first = checkpoints.latest()
    assert first is not None
    follower.checkpoint_polled = float("-inf")
    follower.step()
    assert checkpoints.latest().id == first.id  # not an hour yet
    clock.advance(hours=1, minutes=1)
    db.session.execute(sa.text("SELECT 1"))
    follower.checkpoint_polled = float("-inf")
    follower.step()
    assert checkpoints.latest().id == first.id  # nothing new in the log: the same one stands
