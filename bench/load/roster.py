"""Roster import at scale: a generated roster applied by the command line (or the API), against the
one-credential-at-a-time path of the previous release as the reference, in the same run.

Builds its own temporary SQLite database with the real migrations (or fills an empty scratch database
given as --database-url, and drops its tables afterwards), inserts `--pending` pending and `--verified`
verified credentials of one issuer in bulk, each with its chained audit events
(lifecycle.history_rows), then applies a roster of `--rows` rows in which every pending credential's
number appears (its holder's legal name written "LAST, First M."), about a tenth of the verified ones
are missing or inactive, and the rest are numbers nobody claimed. Times the whole import (parse, match,
the batch path, commit, checkpoint), checks the counts and the audit chain, writes
bench/results/roster-N[-dialect].json and then the README's tables are rewritten from every JSON file (bench.report).

    python -m bench.load.roster --pending 25000 --verified 5000 --rows 100000 --reference
    python -m bench.load.roster ... --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

`--via cli` (the default) runs `flask --app wsgi directory import-roster` in a child process and times
it wall to wall, start-up included; `--via api` posts the file as an admin would (a request applies at
most ROSTER_REQUEST_MAX_CHANGES, so keep it small). `--reference` then puts the database back as it
was and applies the same plan the way the previous release did, an ORM object and a
lifecycle.transition() per credential in one transaction.
"""

import argparse
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench import REPO, RESULTS
from bench import report as readme
from bench.harness.scratch import drop_tables, scratch_app

ISSUER = "camtc"
FIRST = ["Casey", "José", "Zoë", "Jordan", "Robin", "Anne-Marie", "Pat", "Sam", "Lee", "Noor"]
LAST = ["Lin", "Álvarez", "O'Brien", "Park", "Roe", "Dupont", "Doe", "Nakamura", "Okafor", "Silva"]
ADMIN = "bench-admin@example.org"


def build(pending: int, verified: int, rng: random.Random) -> list[dict]:
    """Holders and their credentials, in bulk; returns [{number, name, status}] as on record."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from directory.accounts.models import User
    from directory.credentials.lifecycle import Step, history_rows
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
        table = User.__table__
        user_ids = list(
            conn.execute(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), users
            ).scalars()
        )
        names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(total)]
        people = [
            {
                "user_id": uid,
                "display_name": name,
                "legal_name": name,
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
        for n, (pid, name) in enumerate(zip(practitioner_ids, names, strict=True)):
            status = "pending" if n < pending else "verified"
            records.append(
                {
                    "practitioner_id": pid,
                    "issuer_id": issuer_id,
                    "kind": "license",
                    "title": "Certified Massage Therapist",
                    "number": f"CMT-{n:07d}",
                    "number_key": f"CMT{n:07d}",
                    "issued_on": date(2015, 6, 1),
                    "expires_on": date.today() + timedelta(days=400),
                    "status": status,
                    "method": "document" if status == "verified" else None,
                    "verified_at": now if status == "verified" else None,
                    "checked_at": now if status == "verified" else None,
                    "verified_legal_name": name if status == "verified" else None,
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
            steps = [Step(None, "pending", "submission", now, user["email"], f"holder:{cid}")]
            if record["status"] == "verified":
                steps.append(
                    Step("pending", "verified", "document", now, "reviewer@example.org", "demo:reviewer")
                )
            events.extend(history_rows(cid, steps))
        conn.execute(sa.insert(CredentialEvent.__table__), events)
        if db.engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE"))  # a bulk load leaves the planner's statistics stale
    return [
        {"number": r["number"], "name": name, "status": r["status"]}
        for r, name in zip(records, names, strict=True)
    ]


def roster_csv(holdings: list[dict], rows: int, rng: random.Random) -> tuple[bytes, dict]:
    lines = ["number,name,status,expires_on,issued_on"]
    expected = {"verified": 0, "confirmed": 0, "lapsed": 0}
    expires = (date.today() + timedelta(days=800)).isoformat()
    for h in holdings:
        first, last = h["name"].split(" ", 1)
        as_listed = f'"{last.upper()}, {first} {rng.choice("ABCDEFGH")}."'
        if h["status"] == "pending":
            lines.append(f"{h['number']},{as_listed},Active,{expires},2015-06-01")
            expected["verified"] += 1
        elif rng.random() < 0.05:
            expected["lapsed"] += 1  # missing from the roster
        elif rng.random() < 0.05:
            lines.append(f"{h['number']},{as_listed},Suspended,{expires},2015-06-01")
            expected["lapsed"] += 1
        else:
            lines.append(f"{h['number']},{as_listed},Active,{expires},2015-06-01")
            expected["confirmed"] += 1
    n = 0
    while len(lines) - 1 < rows:
        lines.append(
            f"CMT-{90_000_000 + n},{rng.choice(FIRST)} {rng.choice(LAST)},{rng.choice(('active', 'inactive'))},,"
        )
        n += 1
    data = lines[1 : rows + 1]
    rng.shuffle(data)
    return ("\n".join([lines[0], *data]) + "\n").encode(), expected


def via_cli(url: str, data_dir: Path, path: Path) -> tuple[float, dict]:
    env = {**os.environ, "DATABASE_URL": url, "DIRECTORY_DATA_DIR": str(data_dir), "SECRET_KEY": "bench"}
    command = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "wsgi",
        "directory",
        "import-roster",
        ISSUER,
        str(path),
    ]
    started = time.perf_counter()
    done = subprocess.run([*command, "--admin", ADMIN], cwd=REPO, env=env, capture_output=True, text=True)  # noqa: S603
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"import-roster failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    last = done.stdout.strip().splitlines()[-1]
    counts = {
        word: int(last.split(f" {word}")[0].split()[-1].replace(",", ""))
        for word in ("verified", "confirmed", "lapsed")
    }
    return seconds, counts | {"summary": last}


def via_api(app, body: bytes) -> tuple[float, dict]:
    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": ADMIN, "password": "bench admin password"})
    started = time.perf_counter()
    response = client.post(
        f"/api/v1/admin/issuers/{ISSUER}/roster",
        data={"file": (io.BytesIO(body), "roster.csv")},
        headers={"Authorization": f"Bearer {token.get_json()['token']}"},
        content_type="multipart/form-data",
    )
    seconds = time.perf_counter() - started
    result = response.get_json()
    if response.status_code != 200:
        raise SystemExit(f"import failed: {response.status_code} {result}")
    return seconds, {k: result[k] for k in ("verified", "confirmed", "lapsed")} | {"summary": ""}


def one_at_a_time(app, body: bytes) -> float:
    """The previous release's way: each credential an ORM object moved by lifecycle.transition()."""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    from directory.credentials import lifecycle, roster, service
    from directory.credentials.models import Credential
    from directory.extensions import db

    with app.app_context():
        admin = roster.default_admin(ADMIN)
        issuer = service.issuer(ISSUER)
        started = time.perf_counter()
        plan = roster._plan(admin, issuer, roster.parse_roster(body, issuer), progress=False)
        for action in roster.MOVES:
            items = {item.credential_id: item for item in plan.moves[action]}
            for start in range(0, len(items), 500):
                chunk = list(items)[start : start + 500]
                for c in db.session.scalars(
                    sa.select(Credential)
                    .where(Credential.id.in_(chunk))
                    .options(selectinload(Credential.practitioner), selectinload(Credential.evidence))
                ):
                    item = items[c.id]
                    lifecycle.transition(c, action, admin, item.reason, "roster", item.facts)
        db.session.commit()
        return time.perf_counter() - started


def snapshot_database(app):
    from directory.extensions import db
    from tests import dbreset

    with app.app_context():
        return dbreset.take_snapshot(db.engine)


def restore_database(app, snapshot) -> None:
    from directory.extensions import db
    from tests import dbreset

    with app.app_context():
        db.session.remove()
        dbreset.restore(db.engine, snapshot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=25_000, help="pending credentials, all on the roster")
    parser.add_argument("--verified", type=int, default=5000, help="verified credentials, re-checked")
    parser.add_argument("--via", choices=("cli", "api"), default="cli")
    parser.add_argument("--reference", action="store_true", help="also time the one-at-a-time path")
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
    app, work, dialect = scratch_app(
        args.database_url,
        "roster-bench-",
        PASSWORD_HASH={"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        ROSTER_REQUEST_MAX_CHANGES=10**9,
    )
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    from directory.accounts import service as accounts
    from directory.credentials.audit import verify_chain
    from directory.extensions import db

    try:
        with app.app_context():
            started = time.perf_counter()
            holdings = build(args.pending, args.verified, rng)
            built = time.perf_counter() - started
            accounts.create_admin(ADMIN, "bench admin password")
            db.session.remove()
        before = snapshot_database(app) if args.reference else None
        body, expected = roster_csv(holdings, args.rows, rng)
        path = work / "roster.csv"
        path.write_bytes(body)
        load_before = os.getloadavg()
        if args.via == "cli":
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            seconds, got = via_cli(url, work / "data", path)
        else:
            seconds, got = via_api(app, body)
        load_after = os.getloadavg()
        if {k: got[k] for k in expected} != expected:
            raise SystemExit(f"expected {expected}, got {got}")
        with app.app_context():
            chain = verify_chain()
        if chain["broken"]:
            raise SystemExit(f"audit chain broken: {chain['broken'][:3]}")
        reference = None
        if args.reference:
            restore_database(app, before)
            reference = one_at_a_time(app, body)
        command = " ".join(
            [
                "python -m bench.load.roster",
                f"--pending {args.pending}",
                f"--verified {args.verified}",
                f"--rows {args.rows}",
            ]
            + (["--reference"] if args.reference else [])
            + ([f"--via {args.via}"] if args.via != "cli" else [])
            + (["--database-url <empty scratch database>"] if args.database_url else [])
        )
        figures = {
            "rows": args.rows,
            "bytes": len(body),
            "pending_before": args.pending,
            "verified_before": args.verified,
            **{k: got[k] for k in ("verified", "confirmed", "lapsed")},
            "via": args.via,
            "import_seconds": round(seconds, 2),
            "reference_seconds": round(reference, 2) if reference else None,
            "setup_seconds": round(built, 2),
            "audit_events_after": chain["events"],
            "database": dialect,
            "command": command,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            # Other work on the machine slows the figure: keep how busy it was next to it.
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        }
        print(
            f"{dialect}: roster of {args.rows:,} rows ({len(body) / 1e6:.1f} MB): {figures['verified']:,} verified, "
            f"{figures['confirmed']:,} confirmed, {figures['lapsed']:,} lapsed in {figures['import_seconds']} s "
            f"({args.via}); one at a time: {figures['reference_seconds']} s; audit chain intact "
            f"({chain['events']:,} events)"
        )
        suffix = "" if dialect == "sqlite" else f"-{dialect}"
        out = Path(args.out) if args.out else RESULTS / f"roster-{args.pending}{suffix}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(figures, indent=1) + "\n")
        readme.write()
    finally:
        if args.database_url:
            drop_tables(app)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
