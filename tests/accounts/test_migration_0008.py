"""Migration 0008 carries a previous release's accounts over: every account counts as confirmed, a
duplicate flag keeps its first row, and going back down drops reset rows that name no account."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from directory import create_app
from directory.extensions import db
from tests import dbreset
from tests.credentials.test_migration_0007 import scratch  # noqa: F401  (the fixture: an empty database)

THEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_accounts_and_flags_are_carried_over(scratch, tmp_path):  # noqa: F811
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": scratch, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "x"}
    )
    with app.app_context():
        dbreset.drop_everything(db.engine)
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            for n, role in enumerate(("practitioner", "client", "client")):
                conn.execute(
                    sa.text("INSERT INTO users (email, role, created_at, audit_ref) VALUES (:e, :r, :c, :a)"),
                    {"e": f"u{n}@example.org", "r": role, "c": THEN, "a": f"ref{n}"},
                )
            ids = dict(conn.execute(sa.text("SELECT email, id FROM users")).tuples().all())
            conn.execute(
                sa.text(
                    "INSERT INTO practitioners (user_id, display_name, headline, approach, languages,"
                    " accepting_clients, mobile, phone, website, created_at, updated_at)"
                    " VALUES (:u, 'P', '', '', '[]', false, false, '', '', :c, :c)"
                ),
                {"u": ids["u0@example.org"], "c": THEN},
            )
            pid = conn.execute(sa.text("SELECT id FROM practitioners")).scalar()
            conn.execute(
                sa.text(
                    "INSERT INTO reviews (practitioner_id, author_id, author_name, rating, body, verified_client,"
                    " hidden, created_at, updated_at) VALUES (:p, :a, '', 4, :b, false, false, :c, :c)"
                ),
                {"p": pid, "a": ids["u1@example.org"], "b": "x" * 30, "c": THEN},
            )
            rid = conn.execute(sa.text("SELECT id FROM reviews")).scalar()
            for reason in ("first", "second"):
                conn.execute(
                    sa.text(
                        "INSERT INTO review_flags (review_id, user_id, reason, created_at, resolved)"
                        " VALUES (:r, :u, :why, :c, false)"
                    ),
                    {"r": rid, "u": ids["u2@example.org"], "why": reason, "c": THEN},
                )
        upgrade(revision="0008")
        confirmed = db.session.execute(sa.text("SELECT email_confirmed_at FROM users")).scalars().all()
        assert len(confirmed) == 3 and None not in confirmed
        flags = db.session.execute(sa.text("SELECT reason FROM review_flags")).scalars().all()
        assert flags == ["first"]

        db.session.execute(
            sa.text(
                "INSERT INTO password_resets (token_hash, user_id, email_digest, created_at, expires_at)"
                " VALUES ('a', NULL, 'd', :c, :c), ('b', :u, 'e', :c, :c)"
            ),
            {"c": THEN, "u": ids["u1@example.org"]},
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0007")
        kept = db.session.execute(sa.text("SELECT token_hash FROM password_resets")).scalars().all()
        assert kept == ["b"]
        db.session.remove()
        dbreset.drop_everything(db.engine)
        db.engine.dispose()  # before the scratch database is dropped under its connections
