"""Roster import at scale: a generated roster through `POST /api/v1/admin/issuers/<slug>/roster`.

Builds its own temporary SQLite database with the real migrations (or fills an empty scratch database
given as --database-url, and drops its tables afterwards), inserts `--pending` pending and `--verified`
verified credentials of one issuer in bulk (Core inserts, each with its chained audit events, as the
demo generator writes them), then uploads a roster of `--rows` rows in which every pending
credential's number appears (its holder's name written "LAST, First M."), about a tenth of the
verified ones are missing or inactive, and the rest are numbers nobody claimed. Times the request end
to end (upload, parse, match, verify, commit), checks the counts and the audit chain, and writes
bench/results/roster-N.json.

    python -m bench.roster --rows 100000
    python -m bench.roster --rows 100000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch
"""

import argparse
import io
import json
import os
import platform
import random
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ISSUER = "camtc"
FIRST = ["Casey", "José", "Zoë", "Jordan", "Robin", "Anne-Marie", "Pat", "Sam", "Lee", "Noor"]
LAST = ["Lin", "Álvarez", "O'Brien", "Park", "Roe", "Dupont", "Doe", "Nakamura", "Okafor", "Silva"]


def build(app, pending: int, verified: int, rng: random.Random) -> list[dict]:
    """Holders and their credentials, in bulk; returns [{number, name, status}] as on record."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from directory.accounts.models import User
    from directory.credentials.audit import GENESIS, event_hash
    from directory.credentials.models import Credential, CredentialEvent
    from directory.extensions import db
    from directory.practitioners.models import Practitioner
    from directory.timeutil import now_utc

    upgrade()
    now = now_utc()
    total = pending + verified
    issuer_id = db.session.execute(sa.text("SELECT id FROM issuers WHERE slug = :s"), {"s": ISSUER}).scalar()
    with db.engine.begin() as conn:
        users = [
            {
                "email": f"holder{n}@example.org",
                "password_hash": None,
                "role": "practitioner",
                "created_at": now,
            }
            for n in range(total)
        ]
        user_ids = list(
            conn.execute(
                sa.insert(User.__table__).returning(User.__table__.c.id, sort_by_parameter_order=True), users
            ).scalars()
        )
        names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(total)]
        people = [
            {
                "user_id": uid,
                "display_name": name,
                "headline": "",
                "approach": "",
                "languages": [],
                "accepting_clients": False,
                "mobile": False,
                "phone": "",
                "website": "",
                "created_at": now,
                "updated_at": now,
            }
            for uid, name in zip(user_ids, names, strict=True)
        ]
        table = Practitioner.__table__
        practitioner_ids = list(
            conn.execute(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), people
            ).scalars()
        )
        records = []
        for n, pid in enumerate(practitioner_ids):
            status = "pending" if n < pending else "verified"
            records.append(
                {
                    "practitioner_id": pid,
                    "issuer_id": issuer_id,
                    "kind": "license",
                    "title": "Certified Massage Therapist",
                    "number": f"CMT-{n:07d}",
                    "issued_on": date(2015, 6, 1),
                    "expires_on": date.today() + timedelta(days=400),
                    "status": status,
                    "method": "document" if status == "verified" else None,
                    "verified_at": now if status == "verified" else None,
                    "reason": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        table = Credential.__table__
        credential_ids = list(
            conn.execute(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), records
            ).scalars()
        )
        events = []
        for cid, record, user in zip(credential_ids, records, users, strict=True):
            steps = [(None, "pending", "submission", user["email"])]
            if record["status"] == "verified":
                steps.append(("pending", "verified", "document", "reviewer@example.org"))
            prev = GENESIS
            for i, (before, after, method, actor) in enumerate(steps):
                event = CredentialEvent(
                    credential_id=cid,
                    from_status=before,
                    to_status=after,
                    actor=actor,
                    method=method,
                    reason="",
                    evidence_sha256="",
                    at=now + timedelta(microseconds=i),
                    prev_hash=prev,
                )
                event.hash = prev = event_hash(event)
                events.append(
                    {c.name: getattr(event, c.name) for c in CredentialEvent.__table__.c if c.name != "id"}
                )
        conn.execute(sa.insert(CredentialEvent.__table__), events)
    return [
        {"number": r["number"], "name": name, "status": r["status"]}
        for r, name in zip(records, names, strict=True)
    ]


def roster_csv(holdings: list[dict], rows: int, rng: random.Random) -> tuple[bytes, dict]:
    lines = ["number,name,status,expires_on"]
    expected = {"verified": 0, "lapsed": 0}
    expires = (date.today() + timedelta(days=800)).isoformat()
    for h in holdings:
        first, last = h["name"].split(" ", 1)
        as_listed = f'"{last.upper()}, {first} {rng.choice("ABCDEFGH")}."'
        if h["status"] == "pending":
            lines.append(f"{h['number']},{as_listed},Active,{expires}")
            expected["verified"] += 1
        elif rng.random() < 0.05:
            expected["lapsed"] += 1  # missing from the roster
        elif rng.random() < 0.05:
            lines.append(f"{h['number']},{as_listed},Suspended,{expires}")
            expected["lapsed"] += 1
        else:
            lines.append(f"{h['number']},{as_listed},Active,{expires}")
    n = 0
    while len(lines) - 1 < rows:
        lines.append(
            f"OTHER-{n:08d},{rng.choice(FIRST)} {rng.choice(LAST)},{rng.choice(('active', 'inactive'))},"
        )
        n += 1
    data = lines[1 : rows + 1]
    rng.shuffle(data)
    return ("\n".join([lines[0], *data]) + "\n").encode(), expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=5000, help="pending credentials, all on the roster")
    parser.add_argument("--verified", type=int, default=5000, help="verified credentials")
    parser.add_argument(
        "--database-url",
        help="an EMPTY scratch database (e.g. PostgreSQL) instead of a temporary SQLite file; "
        "its tables are dropped afterwards",
    )
    parser.add_argument("--out", help="JSON path; default bench/results/roster-N[-dialect].json")
    args = parser.parse_args()
    if args.pending + args.verified > args.rows:
        parser.error("--rows must cover --pending and --verified")
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="roster-bench-"))

    import sqlalchemy as sa

    from directory import create_app
    from directory.accounts import service as accounts
    from directory.credentials.audit import verify_chain
    from directory.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{work / 'directory.db'}",
            "DATA_DIR": str(work / "data"),
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        }
    )
    with app.app_context():
        dialect = db.engine.dialect.name
        if sa.inspect(db.engine).get_table_names():
            raise SystemExit(f"{args.database_url} has tables: give an empty scratch database")
    try:
        with app.app_context():
            started = time.perf_counter()
            holdings = build(app, args.pending, args.verified, rng)
            built = time.perf_counter() - started
            accounts.create_admin("bench-admin@example.org", "bench admin password")
            db.session.remove()
        body, expected = roster_csv(holdings, args.rows, rng)
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/tokens",
            json={"email": "bench-admin@example.org", "password": "bench admin password"},
        ).get_json()["token"]
        load_before = os.getloadavg()
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/admin/issuers/{ISSUER}/roster",
            data={"file": (io.BytesIO(body), "roster.csv")},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        result = response.get_json()
        if response.status_code != 200:
            raise SystemExit(f"import failed: {response.status_code} {result}")
        got = {"verified": result["verified"], "lapsed": result["lapsed"]}
        if got != expected:
            raise SystemExit(f"expected {expected}, got {got}")
        with app.app_context():
            chain = verify_chain()
        if chain["broken"]:
            raise SystemExit(f"audit chain broken: {chain['broken'][:3]}")
        figures = {
            "rows": result["rows"],
            "bytes": len(body),
            "pending_before": args.pending,
            "verified_before": args.verified,
            "matched": result["matched"],
            "verified": result["verified"],
            "lapsed": result["lapsed"],
            "request_seconds": round(seconds, 2),
            "service_seconds": result["seconds"],
            "setup_seconds": round(built, 2),
            "audit_events_after": chain["events"],
            "database": dialect,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            # Other work on the machine slows the figure: keep how busy it was next to it.
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        }
        print(
            f"roster of {figures['rows']:,} rows ({len(body) / 1e6:.1f} MB): {figures['verified']:,} verified, "
            f"{figures['lapsed']:,} lapsed, {figures['matched']:,} matched in {figures['request_seconds']} s "
            f"(service {figures['service_seconds']} s); audit chain intact ({chain['events']:,} events)"
        )
        suffix = "" if dialect == "sqlite" else f"-{dialect}"
        out = Path(args.out) if args.out else RESULTS / f"roster-{args.rows}{suffix}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(figures, indent=1) + "\n")
    finally:
        if args.database_url:
            with app.app_context():
                db.session.remove()
                meta = sa.MetaData()
                meta.reflect(bind=db.engine)
                meta.drop_all(bind=db.engine)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
