"""Replica lag: how soon a change saved through node A is found by search on node B.

Two nodes as production runs them (gunicorn with gunicorn.conf.py, two workers each, and
`indexer --follow` beside each), each with its own data dir, on one PostgreSQL database. Fills an empty
scratch database (the real migrations, `--count` demo practitioners; its tables are dropped afterwards),
then for each of `--changes` profile saves through A's API measures, from A's 2xx, until:

- search: B's `GET /api/v1/search?q=<the new word>` returns it (B polled every `--poll-ms`), and
- indexer: B's index has applied it with no search on B at all (B's `/readyz` shows no pending row),
  which is what its `indexer --follow` alone achieves.

With `--load-rounds N`, a longer form of tests/ops/test_process_concurrency.py follows: four client
processes (two saving profiles, two admins deciding credentials) against both nodes, then each node's
index is compared with the database, document by document.

    python -m bench.nodes.replica --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch
    python -m bench.nodes.replica --database-url ... --changes 200 --load-rounds 40

Prints p50/p95/p99/max and writes bench/results/replica-N.json. Loopback only (ports 5100-5199).
"""

import argparse
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import RESULTS
from bench import report as readme
from bench.harness.processes import step

TARGET_P99_MS = 1000
PASSWORD = "replica bench passphrase"  # noqa: S105 - the bench accounts' own, in a scratch database


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def rank(p: float) -> float:
        # Nearest rank: the smallest value with at least p% of the values at or below it.
        return round(ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)], 1)

    return {
        "n": len(ordered),
        "p50_ms": rank(50),
        "p95_ms": rank(95),
        "p99_ms": rank(99),
        "max_ms": round(ordered[-1], 1),
    }


def prepare(app, count: int, writers: int, holders: int) -> dict:
    """Schema, demo data, and the accounts the bench acts as (made through the services)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from directory.demo.generator import generate
    from directory.extensions import db
    from directory.practitioners import service as practitioners
    from directory.practitioners.schemas import ProfileInSchema
    from tests.factories import make_admin, registered

    meta = sa.MetaData()
    meta.reflect(bind=db.engine)
    if meta.tables:
        raise SystemExit("the database has tables: give an empty scratch database")
    upgrade()
    step(f"generating {count} demo practitioners")
    generate(count=count, seed=1)
    people = {"writers": [], "holders": [], "admins": []}
    for kind, number in (("writers", writers), ("holders", holders)):
        for n in range(number):
            user = registered(f"{kind}{n}@bench.example.org", PASSWORD, "practitioner")
            data = ProfileInSchema().load({"display_name": f"Bench {kind} {n}", "approach": "Before."})
            people[kind].append({"email": user.email, "pid": practitioners.save_profile(user, data).id})
    for n in range(2):
        people["admins"].append({"email": make_admin(f"admin{n}@bench.example.org", PASSWORD).email})
    return people


def sign_in(app, node, person: dict) -> str:
    """A token through node A's API, as a client gets one (admins give their authenticator code)."""
    from directory.accounts.models import User
    from directory.extensions import db
    from tests.factories import totp_code

    body = {"email": person["email"], "password": PASSWORD}
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == person["email"]))
        if user.totp_secret:
            body["totp"] = totp_code(user)
    status, answer = node.request("POST", "/api/v1/auth/tokens", body)
    if status != 201:
        raise SystemExit(f"sign-in failed: {status} {answer}")
    return answer["token"]


def measure(a, b, writers: list[dict], changes: int, poll_ms: float, by: str) -> list[float]:
    """Milliseconds from A's answer to the save until B shows it (by search, or by B's readiness lag)."""
    delays = []
    for n in range(changes):
        writer = writers[n % len(writers)]
        word = f"lag{by}{n}x{writer['pid']}"
        body = {"display_name": f"Bench writer {writer['pid']}", "approach": f"Now with {word}."}
        status, answer = a.request("PUT", "/api/v1/me/profile", body, writer["token"])
        if status != 200:
            raise SystemExit(f"save through A failed: {status} {answer}")
        saved = time.perf_counter()
        while True:
            if by == "search":
                found = b.search_ids(q=word) == [writer["pid"]]
            else:
                found = b.ready()[1]["lag"]["pending"] == 0
            if found:
                break
            if time.perf_counter() - saved > 30:
                raise SystemExit(f"change {n} not visible on B after 30 s")
            time.sleep(poll_ms / 1000)
        delays.append((time.perf_counter() - saved) * 1000)
    return delays


def pending_credentials(a, holders: list[dict]) -> list[int]:
    from tests.credentials.conftest import PNG, submission

    ids = []
    for n, holder in enumerate(holders):
        fields = {**submission(number=f"CMT-{100000 + n}"), "evidence": ("licence.png", PNG)}
        status, answer = multipart(a.port, "/api/v1/me/credentials", fields, holder["token"])
        if status != 201:
            raise SystemExit(f"credential submission failed: {status} {answer}")
        ids.append(answer["id"])
    return ids


def multipart(port: int, path: str, fields: dict, token: str):
    import http.client
    import uuid

    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            filename, content = value
            body.write(f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode())
            body.write(b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n")
        else:
            body.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f"--{boundary}--\r\n".encode())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=body.getvalue(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def load(app, nodes, people: dict, rounds: int) -> dict:
    """Four client processes at once, then each node's index against the database."""
    from tests.ops.index_check import mismatches

    a = nodes[0]
    holders = people["holders"]
    credentials = pending_credentials(a, holders)
    ports = [node.port for node in nodes]
    half = len(holders) // 2
    jobs = [
        {"kind": "profiles", "ports": ports, "rounds": rounds, "tag": tag, "practitioners": group}
        for tag, group in (("alpha", holders[:half]), ("omega", holders[half:]))
    ] + [
        {"kind": "decisions", "ports": ports, "token": admin["token"], "credentials": credentials, "seed": n}
        for n, admin in enumerate(people["admins"])
    ]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.ops.load", json.dumps(job)], stdout=subprocess.PIPE, text=True
        )
        for job in jobs
    ]
    results = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    requests = sum(len(r["seconds"]) for r in results)
    for node in nodes:
        node.wait_ready(caught_up=True, timeout=60)
    with app.app_context():
        problems = {node.name: mismatches(node.data_dir) for node in nodes}
    errors = {node.name: ("Traceback" in node.logs()) or ("LockError" in node.logs()) for node in nodes}
    return {
        "processes": len(jobs),
        "rounds": rounds,
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 1),
        "statuses": statuses,
        "unexpected": sum(len(r["unexpected"]) for r in results),
        "write_latency": percentiles([s * 1000 for r in results for s in r["seconds"]]),
        "index_mismatches": {name: len(found) for name, found in problems.items()},
        "tracebacks_in_logs": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nodes.replica", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL scratch database")
    parser.add_argument("--count", type=int, default=2000, help="demo practitioners (default 2000)")
    parser.add_argument("--changes", type=int, default=200, help="timed saves for each way of looking")
    parser.add_argument("--writers", type=int, default=5, help="practitioner accounts saving in turn")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="pause between polls of node B")
    parser.add_argument("--load-rounds", type=int, default=0, help="then the four-process load, N rounds")
    parser.add_argument("--holders", type=int, default=16, help="practitioners with a credential in the load")
    parser.add_argument("--out", help="JSON path (default bench/results/replica-N.json)")
    parser.add_argument(
        "--logs", metavar="DIR", help="keep each node's logs (gunicorn, access, indexer) here"
    )
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("several nodes share a PostgreSQL database: give a postgresql+psycopg:// URL")

    import sqlalchemy as sa

    from directory import create_app
    from directory.extensions import db
    from tests.ops.nodes import Node, start_all, stop_all

    work = Path(tempfile.mkdtemp(prefix="replica-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "DATA_DIR": str(work / "bench")})
    nodes = [Node(name, args.database_url, work / name) for name in ("a", "b")]
    try:
        with app.app_context():
            people = prepare(app, args.count, args.writers, args.holders if args.load_rounds else 0)
            db.session.remove()
        step("starting node a and node b (gunicorn, 2 workers and an indexer each)")
        start_all(nodes)
        a, b = nodes
        # Alternately through each node: sign-in is rate limited per client address and worker.
        for n, person in enumerate(people["writers"] + people["holders"] + people["admins"]):
            person["token"] = sign_in(app, nodes[n % 2], person)
        a.search_ids(q="warm")
        b.search_ids(q="warm")
        load_before = os.getloadavg()
        step(f"{args.changes} saves through a, found by search on b")
        by_search = measure(a, b, people["writers"], args.changes, args.poll_ms, "search")
        step(f"{args.changes} saves through a, applied by b's indexer (no search on b)")
        by_indexer = measure(a, b, people["writers"], args.changes, args.poll_ms, "ready")
        result = {
            "practitioners": args.count,
            "changes": args.changes,
            "poll_ms": args.poll_ms,
            "nodes": "2 x (gunicorn 2 sync workers + indexer --follow), one PostgreSQL, loopback",
            "found_by_search_on_b": percentiles(by_search),
            "applied_by_indexer_on_b": percentiles(by_indexer),
            "target_p99_ms": TARGET_P99_MS,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                # Other work on the machine moves the tail: the 1-minute load average before and after timing.
                "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            },
        }
        if args.load_rounds:
            step(f"four client processes, {args.load_rounds} rounds, against both nodes")
            result["load"] = load(app, nodes, people, args.load_rounds)
    finally:
        stop_all(nodes)
        if args.logs:
            for node in nodes:
                for log in node.folder.glob("*.log"):
                    Path(args.logs).mkdir(parents=True, exist_ok=True)
                    shutil.copy(log, Path(args.logs) / f"{node.name}-{log.name}")
        with app.app_context():
            db.session.remove()
            meta = sa.MetaData()
            meta.reflect(bind=db.engine)
            meta.drop_all(bind=db.engine)
            db.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    print(report(result))
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out or RESULTS / f"replica-{args.count}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    readme.write()  # the READMEs' tables, from every JSON file now there
    ok = result["found_by_search_on_b"]["p99_ms"] < TARGET_P99_MS and (
        "load" not in result
        or not (result["load"]["unexpected"] or any(result["load"]["index_mismatches"].values()))
    )
    return 0 if ok else 1


def report(result: dict) -> str:
    lines = [
        f"Replica lag at {result['practitioners']:,} practitioners, {result['changes']} saves each way "
        f"(from node A's 2xx; B polled every {result['poll_ms']} ms):",
        "| until | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label in (
        ("found_by_search_on_b", "B's search finds it"),
        ("applied_by_indexer_on_b", "B's indexer applied it"),
    ):
        f = result[key]
        lines.append(f"| {label} | {f['p50_ms']} | {f['p95_ms']} | {f['p99_ms']} | {f['max_ms']} |")
    lines.append(
        f"Target: p99 under {result['target_p99_ms']} ms. Load average before/after timing: "
        f"{result['machine']['load_average']} on {result['machine']['cpus']} CPUs."
    )
    if "load" in result:
        load = result["load"]
        lines.append(
            f"Load: {load['processes']} processes, {load['requests']} requests in {load['seconds']} s "
            f"({load['requests_per_second']}/s), statuses {load['statuses']}, unexpected {load['unexpected']}, "
            f"index mismatches {load['index_mismatches']}, write p99 {load['write_latency']['p99_ms']} ms"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
