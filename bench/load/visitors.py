"""Load test: locust, headless, against gunicorn (2 workers) on PostgreSQL, on loopback.

    .venv/bin/python -m bench.load.visitors [--users 20] [--duration 60] [--count 100000] [--keep-db]

Creates the PostgreSQL database `directory_load` (never `test`), migrates it, loads `--count` demo
practitioners (`flask directory demo`), reindexes, makes the run's own client and practitioner
accounts and their API tokens directly through the services (the sign-in and registration routes
are rate-limited per address, and every simulated visitor comes from 127.0.0.1), starts gunicorn
from gunicorn.conf.py with 2 workers on 127.0.0.1:5342, and runs bench/load/locustfile.py: 70% search,
20% profile views, 5% reviews, 5% profile updates. Prints per endpoint requests, rps, p50/p95/p99,
errors and intended 429s apart, and writes bench/results/load.json. `--keep-db` keeps the database
(a re-run reuses its practitioners); otherwise it is dropped at the end.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench import REPO, RESULTS
from bench import report as readme
from bench.harness.processes import children, rss_mb, step
from bench.load.watch import MemoryWatch, search_beside_healthz
from bench.search.engine import bench_env, stop
from bench.search.queries import SEED, build_queries, http_params
from bench.search.speed import cpu_busy

PG = ["-h", "127.0.0.1", "-U", "postgres"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load.visitors", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--users", type=int, default=20, help="simultaneous visitors (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="visitors started a second")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--count", type=int, default=100_000, help="demo practitioners (default 100000)")
    parser.add_argument("--database", default="directory_load", help="PostgreSQL database to create")
    parser.add_argument("--port", type=int, default=5342, help="loopback port for gunicorn (5300-5399)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=3000, help="client accounts, one per review")
    parser.add_argument("--read-only", action="store_true", help="searches and views only, to compare")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (and reuse it next time)")
    parser.add_argument("--data-dir", help="index folder (default: a temporary one)")
    parser.add_argument(
        "--no-reindex", action="store_true", help="with --keep-db and --data-dir: reuse the index"
    )
    parser.add_argument(
        "--rss-every", type=float, default=30, help="seconds between RSS samples (default 30)"
    )
    parser.add_argument(
        "--wrk-seconds", type=int, default=20, help="seconds of wrk per path after the load (0: no wrk)"
    )
    args = parser.parse_args(argv)
    if args.database == "test":
        parser.error("the database `test` belongs to the test suite")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database):
        parser.error("--database: lower-case letters, digits and _ only")
    return args


def psql(sql: str, database: str = "postgres") -> str:
    done = subprocess.run(  # noqa: S603
        ["psql", *PG, "-d", database, "-tAc", sql],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def flask(args: list[str], env: dict[str, str]) -> float:
    step("flask --app wsgi " + " ".join(args))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPO, env=env, check=True)  # noqa: S603
    return round(time.perf_counter() - started, 1)


def prepare(args, url: str, env: dict[str, str]) -> dict:
    """Database, demo data and index; returns what each step took (None when reused)."""
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{args.database}'"  # noqa: S608  (checked name)
    if not psql(exists):
        subprocess.run(["createdb", *PG, args.database], check=True)  # noqa: S603, S607
    timings: dict = {"demo_s": None, "reindex_s": None}
    flask(["db", "upgrade"], env)
    have = int(psql("SELECT count(*) FROM practitioners", args.database))
    if have < args.count:
        timings["demo_s"] = flask(["directory", "demo", "--count", str(args.count - have)], env)
    if not args.no_reindex:
        timings["reindex_s"] = flask(["directory", "reindex"], env)
    # `demo` ends with ANALYZE on PostgreSQL; said here, since plans on stale statistics tripled one run.
    analysed = "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL FROM pg_stat_user_tables"
    timings["statistics_fresh"] = psql(f"{analysed} WHERE relname = 'practitioners'", args.database) == "t"
    step("planner statistics " + ("fresh (ANALYZE)" if timings["statistics_fresh"] else "NEVER REFRESHED"))
    return timings


def make_accounts(args, url: str, data_dir: str) -> dict:
    """The run's accounts and tokens, written straight through the services (see the docstring).
    Emails carry the run's time, so a re-run starts with accounts that have written no review."""
    import sqlalchemy as sa

    from directory import create_app
    from directory.accounts import grants
    from directory.accounts.models import ApiToken, User
    from directory.accounts.passwords import hash_password
    from directory.catalog.models import Technique
    from directory.extensions import db
    from directory.practitioners import service as practitioners
    from directory.practitioners.models import Practitioner

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": data_dir})
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    with app.app_context():
        low, high = db.session.execute(
            sa.select(sa.func.min(Practitioner.id), sa.func.max(Practitioner.id))
        ).one()
        techniques = sorted(db.session.scalars(sa.select(Technique.slug)))
        # One hash for every account: they never sign in (tokens are issued below), and hashing
        # thousands of passwords would take minutes for nothing.
        password = hash_password("load test only, never used")

        def accounts(role: str, n: int) -> list[User]:
            # Confirmed, as people who write reviews and keep profiles are.
            confirmed = datetime.now(UTC)
            users = [
                User(
                    email=f"load-{stamp}-{role}-{k}@example.org",
                    password_hash=password,
                    role=role,
                    email_confirmed_at=confirmed,
                )
                for k in range(n)
            ]
            db.session.add_all(users)
            db.session.commit()
            return users

        step(f"making {args.clients} client and {args.users} practitioner accounts with tokens")
        client_tokens = [grants.issue(ApiToken, user)[0] for user in accounts("client", args.clients)]
        practitioner_tokens = []
        for k, user in enumerate(accounts("practitioner", args.users)):
            practitioners.save_profile(user, _first_profile(k, techniques))
            practitioner_tokens.append((grants.issue(ApiToken, user)[0], k))
        db.session.commit()  # issuing writes into the transaction; this setup commits it
        db.engine.dispose()  # no idle connection left behind to block the dropdb at the end
    return {
        "practitioner_ids": [low, high],
        "techniques": techniques,
        "client_tokens": client_tokens,
        "practitioner_tokens": practitioner_tokens,
    }


def _first_profile(k: int, techniques: list[str]) -> dict:
    return {
        "display_name": f"Load Practitioner {k}",
        "headline": "Trigger point work for desk workers",
        "approach": "A first profile, replaced by the load test's saves.",
        "techniques": techniques[:2],
        "conditions": [],
        "client_groups": [],
        "practicing_since": 2010,
        "languages": ["en"],
        "accepting_clients": True,
        "mobile": False,
        "price_min": 60,
        "price_max": 120,
        "phone": "",
        "website": "",
    }


class Server:
    """gunicorn from gunicorn.conf.py (bind and workers from its environment variables)."""

    def __init__(self, args, env: dict[str, str], log: Path) -> None:
        self.env = {
            **env,
            "DIRECTORY_BIND": f"127.0.0.1:{args.port}",
            "DIRECTORY_SITE_URL": f"http://127.0.0.1:{args.port}",
            "DIRECTORY_WORKERS": str(args.workers),
            "DIRECTORY_ACCESS_LOG": "",  # no access log: writing it would be part of what is timed
        }
        self.url, self.log = f"http://127.0.0.1:{args.port}", log
        conf = REPO / "gunicorn.conf.py"
        flags = (
            ["-c", str(conf)] if conf.exists() else ["-w", str(args.workers), "-b", f"127.0.0.1:{args.port}"]
        )
        self.command = [str(Path(sys.executable).with_name("gunicorn")), *flags, "wsgi:app"]

    def __enter__(self) -> "Server":
        self.out = open(self.log, "wb")  # noqa: SIM115  (closed in __exit__)
        step(" ".join(self.command[1:]))
        self.process = subprocess.Popen(  # noqa: S603  (our gunicorn, our arguments)
            self.command, cwd=REPO, env=self.env, stdout=self.out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                # The first search also applies the outbox rows of the accounts just made.
                for path in ("/api/v1/vocabulary", "/api/v1/search?q=sciatica", "/api/v1/search?q=neck"):
                    urllib.request.urlopen(self.url + path, timeout=60).read()  # noqa: S310  (loopback)
                return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer within 120 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        stop(self.process)
        self.out.close()

    def worker_rss(self, field: str) -> list[float | None]:
        return [rss_mb(pid, field) for pid in children(self.process.pid)]


def run_locust(args, server: Server, plan_path: Path, out: Path, env: dict[str, str]) -> int:
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(REPO / "bench" / "load" / "locustfile.py"),
        "--headless",
        "--host",
        server.url,
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{args.duration}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    step(" ".join(["locust", *command[1:]]))
    # locust exits 1 when any request failed; the intended 429s count as failures there.
    return subprocess.run(  # noqa: S603  (our locust, our arguments)
        command,
        cwd=REPO,
        env={
            **env,
            "LOAD_PLAN": str(plan_path),
            "LOAD_OUT": str(out),
            "LOAD_READ_ONLY": str(int(args.read_only)),
        },
        check=False,
    ).returncode


def table(rows: list[dict]) -> str:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors | 429 (intended) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['endpoint']} | {r['requests']:,} | {r['rps']} | {r['p50_ms']:g} | {r['p95_ms']:g} | "
            f"{r['p99_ms']:g} | {r['errors']} | {r['intended_429']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    data_dir = args.data_dir or str(work / "data")
    env = bench_env(url, data_dir)
    step(f"database {args.database}, index {data_dir}, load average {os.getloadavg()[0]:.2f}")
    try:
        timings = prepare(args, url, env)
        plan = make_accounts(args, url, data_dir)
        plan["queries"] = [http_params(q) for q in build_queries(400, SEED + 7)]
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan))
        out = work / "locust.json"
        with Server(args, env, work / "gunicorn.log") as server:
            busy_before, load_before = cpu_busy(), os.getloadavg()
            with MemoryWatch(lambda: server.worker_rss("VmRSS"), args.rss_every) as memory:
                exit_code = run_locust(args, server, plan_path, out, env)
            load_after = os.getloadavg()
            rss = {"now": server.worker_rss("VmRSS"), "peak": server.worker_rss("VmHWM")}
            wrk = search_beside_healthz(server.url, args.wrk_seconds) if args.wrk_seconds else None
        figures = json.loads(out.read_text())
        rows = figures["endpoints"]
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "count": args.count,
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration_s": args.duration,
            "workers": args.workers,
            "nproc": os.cpu_count(),
            "cpu_busy_elsewhere_before": busy_before,
            "load_before": [round(v, 2) for v in load_before],
            "load_after": [round(v, 2) for v in load_after],
            "locust_exit": exit_code,
            "setup": timings,
            "worker_rss_mb": rss,
            "rss_every_s": args.rss_every,
            "rss_samples": memory.samples,
            "rss_highest_mb": memory.highest(),
            "wrk": wrk,
            "endpoints": rows,
            "error_messages": figures["error_messages"],
        }
        total = next(r for r in rows if r["endpoint"] == "all")
        text = (
            f"Load: {args.users} visitors for {args.duration} s, gunicorn {args.workers} workers, PostgreSQL, "
            f"{args.count:,} practitioners; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
            + table(rows)
            + f"\nerror rate {total['errors'] / max(1, total['requests']):.3%} (429s apart); "
            f"worker RSS after {rss['now']} MB, peak {rss['peak']} MB; highest sample every {args.rss_every:g} s: "
            f"{memory.highest()} MB"
            + (
                f"\nwrk, {wrk['connections']} connections, {wrk['seconds']} s each: search "
                f"{wrk['search']['requests_per_s']:.0f} req/s, /healthz {wrk['healthz']['requests_per_s']:.0f} req/s: "
                f"{wrk['share']:.1%} (load average {wrk['search']['load_1min_after']} after)"
                if wrk
                else ""
            )
        )
        print(text)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "load.json").write_text(json.dumps({**result, "table": text}, indent=2) + "\n")
        readme.write()  # the READMEs' tables, from every JSON file now there
        step(f"wrote {RESULTS / 'load.json'}")
        return 0 if total["errors"] == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep_db:
            step(f"dropping {args.database}")
            subprocess.run(["dropdb", *PG, "--force", "--if-exists", args.database], check=False)  # noqa: S603, S607


if __name__ == "__main__":
    sys.exit(main())
