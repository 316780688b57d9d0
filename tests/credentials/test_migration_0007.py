"""Migration 0007 carries what exists over, never silently changing or deleting it: old chains are hashed
again over pseudonyms (and the migration is itself an event), shared numbers become contested, old
numbers that fit no format are kept and listed, and old badges stay until their next re-check."""

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from directory import create_app
from directory.credentials import queues
from directory.credentials.audit import verify_chain
from directory.extensions import db
from tests import dbreset

GENESIS = "0" * 64
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def old_hash(event: dict) -> str:
    """The hash as it was before 0007: it covered the actor's email and id."""
    body = {k: event[k] for k in ("credential_id", "from_status", "to_status", "actor", "actor_id", "method")}
    body |= {"reason": event["reason"], "evidence_sha256": "", "prev_hash": event["prev_hash"]}
    body["at"] = event["at"].isoformat(timespec="microseconds")
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@pytest.fixture
def scratch(tmp_path):
    """An empty database of its own (a file on SQLite, a new database on PostgreSQL)."""
    shared = os.environ.get("DIRECTORY_TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"migration_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(shared, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield shared.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_before_0007(conn) -> dict:
    """What a database of the previous release held: users, profiles, claims and their v1 chains."""
    users = [
        {"email": f"p{n}@example.org", "role": "practitioner", "created_at": NOW, "password_hash": None}
        for n in range(3)
    ] + [{"email": "admin@example.org", "role": "admin", "created_at": NOW, "password_hash": None}]
    conn.execute(
        sa.text("INSERT INTO users (email, role, created_at) VALUES (:email, :role, :created_at)"), users
    )
    uid = dict(conn.execute(sa.text("SELECT email, id FROM users")).tuples().all())
    for n in range(3):
        conn.execute(
            sa.text(
                "INSERT INTO practitioners (user_id, display_name, headline, approach, languages, "
                "accepting_clients, mobile, phone, website, created_at, updated_at) VALUES "
                "(:u, :name, '', '', '[]', false, false, '', '', :at, :at)"
            ),
            {"u": uid[f"p{n}@example.org"], "name": f"Casey Lin {n}", "at": NOW},
        )
    pid = [r[0] for r in conn.execute(sa.text("SELECT id FROM practitioners ORDER BY id"))]
    camtc = conn.execute(sa.text("SELECT id FROM issuers WHERE slug = 'camtc'")).scalar()
    claims = [
        ("verified-alone", pid[0], "CMT-1001", "verified"),
        ("shared-verified", pid[0], "CMT-2002", "verified"),
        ("shared-pending", pid[1], "cmt 2002", "pending"),
        ("twice-pending-a", pid[1], "CMT-3003", "pending"),
        ("twice-pending-b", pid[2], "CMT-3003", "pending"),
        ("no-format", pid[2], "N-1", "pending"),
    ]
    ids = {}
    for label, practitioner, number, status in claims:
        ids[label] = conn.execute(
            sa.text(
                "INSERT INTO credentials (practitioner_id, issuer_id, kind, title, number, issued_on, "
                "expires_on, status, method, verified_at, reason, created_at, updated_at, version) VALUES "
                "(:p, :i, 'license', 'Massage Therapist', :n, :issued, :expires, :s, :m, :v, '', :at, :at, 1) "
                "RETURNING id"
            ),
            {
                "p": practitioner,
                "i": camtc,
                "n": number,
                "issued": date(2015, 6, 1),
                "expires": date(2030, 6, 1),
                "s": status,
                "m": "document" if status == "verified" else None,
                "v": NOW if status == "verified" else None,
                "at": NOW,
            },
        ).scalar()
        steps = [(None, "pending", f"p{pid.index(practitioner)}@example.org", "submission")]
        if status == "verified":
            steps.append(("pending", "verified", "admin@example.org", "document"))
        prev = GENESIS
        for i, (before, after, actor, method) in enumerate(steps):
            event = {
                "credential_id": ids[label],
                "from_status": before,
                "to_status": after,
                "actor": actor,
                "actor_id": uid[actor],
                "method": method,
                "reason": "",
                "at": NOW.replace(microsecond=i),
                "prev_hash": prev,
            }
            event["hash"] = prev = old_hash(event)
            conn.execute(
                sa.text(
                    "INSERT INTO credential_events (credential_id, from_status, to_status, actor_id, actor, method, "
                    "reason, evidence_sha256, at, prev_hash, hash) VALUES (:credential_id, :from_status, "
                    ":to_status, :actor_id, :actor, :method, :reason, '', :at, :prev_hash, :hash)"
                ),
                event,
            )
    return ids


def test_existing_data_is_carried_over(scratch, tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": scratch, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "x"}
    )
    with app.app_context():
        dbreset.drop_everything(db.engine)
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            ids = seed_before_0007(conn)
        upgrade(revision="0007")

        result = verify_chain()
        assert result["broken"] == [] and result["credentials"] == 6
        rows = dict(db.session.execute(sa.text("SELECT id, status FROM credentials")).tuples().all())
        assert rows[ids["verified-alone"]] == "verified"
        assert rows[ids["shared-verified"]] == "verified"  # the only holder stays verified
        assert rows[ids["shared-pending"]] == "contested"
        assert rows[ids["twice-pending-a"]] == rows[ids["twice-pending-b"]] == "contested"
        assert rows[ids["no-format"]] == "pending"
        keys = dict(db.session.execute(sa.text("SELECT id, number_key FROM credentials")).tuples().all())
        assert keys[ids["shared-pending"]] == "CMT2002" and keys[ids["no-format"]] is None
        number = db.session.execute(
            sa.text("SELECT number FROM credentials WHERE id = :i"), {"i": ids["no-format"]}
        )
        assert number.scalar() == "N-1", "kept as it was"
        listed = queues.recheck_queue({"reason": "format"})
        assert [item.credential.id for item in listed.items] == [ids["no-format"]]
        # Old badges keep their word until the next re-check: verified under the display name then.
        verified = db.session.execute(
            sa.text("SELECT checked_at, verified_legal_name FROM credentials WHERE id = :i"),
            {"i": ids["verified-alone"]},
        ).one()
        assert verified.checked_at is not None and verified.verified_legal_name == "Casey Lin 0"
        assert (
            db.session.execute(
                sa.text("SELECT count(*) FROM practitioners WHERE legal_name IS NULL")
            ).scalar()
            == 3
        )
        # No hash covers an email any more; the migration is an event of the log itself.
        refs = db.session.execute(sa.text("SELECT DISTINCT actor_ref FROM credential_events")).scalars().all()
        assert all(r == "system" or r.startswith("user:") for r in refs) and not any("@" in r for r in refs)
        log = db.session.execute(
            sa.text("SELECT to_status, method, reason FROM credential_events WHERE credential_id IS NULL")
        ).one()
        assert (log.to_status, log.method) == ("migrated", "migration")
        assert "8 events re-hashed, 3 claims of shared numbers contested" in log.reason
        db.session.remove()
        db.engine.dispose()
