"""Crash test: kill -9 a worker, the indexer or the whole server under a write load, again and again.

    python -m bench.faults.crash                       # 50 kills on PostgreSQL (database directory_crash_bench)
    python -m bench.faults.crash --database sqlite     # the same on a SQLite file
    python -m bench.faults.crash --kills 6 --keep /tmp/crash

gunicorn (2 workers) and `flask directory indexer --follow` serve a node of their own (loopback port in
5200-5299, own data folder and database); writer threads update profiles and places, submit and
resubmit credentials with evidence files, decide on them as an admin (verify, reject, revoke) and
write and edit reviews, recording every write the server acknowledged. At a random moment a worker,
the indexer or the whole server (master and workers) gets SIGKILL and is restarted; the load runs on
against the recovered node for a moment, pauses, and the invariants are checked (crashcheck.py).
Then the index folder is deleted, and corrupted twice (segment files, the CURRENT pointer), while
searches run: each must still be answered, and the rebuilt index must equal the database.
Prints a tally table and writes bench/results/crash.json (every figure must be zero).
"""

import argparse
import json
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS
from bench import report as readme
from bench.faults.crashcheck import DAMAGES, Checker, damage_phase, group_lost
from bench.faults.crashkit import PORTS, Node
from bench.faults.crashload import Ledger, Load, seed, sign_in
from bench.harness.processes import free_port
from bench.harness.scratch import drop_database, fresh_database

KINDS = ("worker", "indexer", "server")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/directory_crash_bench"
FAST_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}  # seeding speed; the server checks any


def schedule(kills: int, rng: random.Random) -> list[str]:
    """Equal shares of each kind (the first three are one of each), in a random order."""
    kinds = [KINDS[i % 3] for i in range(kills)]
    head, tail = kinds[:3], kinds[3:]
    rng.shuffle(head)
    rng.shuffle(tail)
    return head + tail


def run(
    work: Path,
    database_url: str,
    kills: int = 50,
    damages: tuple[str, ...] = DAMAGES,
    practitioners: int = 8,
    clients: int = 4,
    seed_value: int = 1,
    gap: tuple[float, float] = (0.3, 2.5),
    settle: float = 1.0,
    damage_demo: int = 0,
    progress: bool = False,
    on_round=None,
) -> dict:
    """The whole crash test; returns the report (see `tally`)."""
    from flask_migrate import upgrade

    from directory import create_app
    from directory.extensions import db

    rng = random.Random(seed_value)
    work.mkdir(parents=True, exist_ok=True)
    fresh_database(database_url)
    port = free_port(PORTS)  # not from the seeded generator: two runs at once must not pick the same port
    node = Node(work, database_url, port)
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATA_DIR": str(node.data_dir),
        "PASSWORD_HASH": FAST_HASH,
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    rounds, phases = [], []
    load = None
    started = time.monotonic()
    with app.app_context():
        upgrade()
        people = seed(app, practitioners, clients)
        db.session.remove()
        try:
            node.start()
            for person in [*people["practitioners"], *people["clients"], people["admin"]]:
                sign_in(port, person)
            ledger = Ledger()
            load = Load(port, people, ledger, seed_value)
            checker = Checker(app, node, people)
            plan = schedule(kills, rng)
            bar = _bar(len(plan) + len(damages), progress)
            for number, kind in enumerate(plan, 1):
                actual = kind if kind != "indexer" or node.want_indexer else "worker"
                load.start()
                time.sleep(rng.uniform(*gap))
                at = time.monotonic()
                victim = {"worker": lambda: node.kill_worker(rng), "indexer": node.kill_indexer}.get(
                    actual, node.kill_server
                )()
                restart = time.monotonic() - at
                time.sleep(settle)  # the load goes on against the restarted node
                load.pause()
                checks = checker.all(ledger)
                rounds.append(
                    {
                        "round": number,
                        "kill": actual,
                        "victim": victim,
                        "restart_seconds": round(restart, 2),
                        "acknowledged_so_far": ledger.acknowledged(),
                        "checks": checks,
                        "failures": Checker.failures(checks),
                    }
                )
                bar.update(1)
                bar.set_postfix(failures=sum(r["failures"] for r in rounds))
                if on_round:
                    on_round(rounds[-1])
            if damages and damage_demo:
                # Enough practitioners that a rebuild outlasts a search's wait: answers come degraded.
                _demo(damage_demo, seed_value)
            for how in damages:
                phases.append(damage_phase(node, load, checker, ledger, how, rng))
                bar.update(1)
            final = checker.all(ledger)
            bar.close()
        finally:
            if load is not None:
                load.close()
            node.stop()
            db.session.remove()
            db.engine.dispose()
    return tally(rounds, phases, final, ledger, load.refused, node, time.monotonic() - started)


def _quiet() -> None:
    """The command's own log lines (sign-ups while seeding, Alembic) would bury the progress bar."""
    for name in ("directory", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _demo(count: int, seed_value: int) -> None:
    from directory.demo.credentials import add_credentials
    from directory.demo.generator import generate
    from directory.demo.reviews import add_reviews
    from directory.extensions import db

    generate(count=count, seed=seed_value, progress=False, hooks=[add_credentials, add_reviews])
    db.session.remove()


def _bar(total: int, progress: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="Kills and damages", unit=" step", disable=not progress)


def tally(
    rounds: list[dict],
    phases: list[dict],
    final: dict,
    ledger: Ledger,
    refused: int,
    node: Node,
    seconds: float,
) -> dict:
    all_checks = [r["checks"] for r in rounds] + [p["checks"] for p in phases] + [final]
    figures = {
        "runs": len(rounds) + len(phases),
        "kills": len(rounds),
        "kills_by_kind": {kind: sum(1 for r in rounds if r["kill"] == kind) for kind in KINDS},
        "writes_attempted": len(ledger.writes),
        "writes_acknowledged": ledger.acknowledged(),
        "writes_unanswered": sum(1 for w in ledger.writes if w["status"] is None),
        "requests_refused": refused,
        # Distinct writes and files (one lost early is seen again by every later check); audit
        # failures and index mismatches per check, each check being a fresh look.
        "lost_writes": len({(x["kind"], x["key"], x["problem"]) for c in all_checks for x in c["lost"]}),
        "lost_by_kind": group_lost(all_checks),
        "audit_failures": sum(0 if c["audit"]["ok"] else 1 for c in all_checks),
        "index_mismatches": sum(c["index"]["count"] for c in all_checks),
        "orphaned_files": len({n for c in all_checks for n in c["evidence"]["orphaned"]}),
        "missing_files": len({n for c in all_checks for n in c["evidence"]["missing"]}),
        "torn_files": len({n for c in all_checks for n in c["evidence"]["torn"]}),
        "server_errors": len(ledger.errors),
        "damage_not_200": sum(p["not_200"] for p in phases),
        "damage_worker_deaths": sum(p["worker_deaths"] for p in phases),
        "evidence_files_at_end": final["evidence"]["files"],
        "practitioners_compared": final["index"]["practitioners"],
        "seconds": round(seconds, 1),
    }
    must_be_zero = (
        "lost_writes",
        "audit_failures",
        "index_mismatches",
        "orphaned_files",
        "missing_files",
        "torn_files",
        "server_errors",
        "damage_not_200",
        "damage_worker_deaths",
    )
    figures["failures"] = sum(figures[key] for key in must_be_zero) + sum(
        1 for p in phases if p["rebuilt_seconds"] is None
    )
    return {
        "figures": figures,
        "must_be_zero": must_be_zero,
        "rounds": [_brief(r) for r in rounds],
        "damage": phases,
        "final": final,
        "errors": ledger.errors[:50],
        "indexer": node.want_indexer,
    }


def _brief(round_: dict) -> dict:
    checks = round_["checks"]
    return round_ | {
        "checks": {
            "lost": checks["lost"][:10],
            "audit_ok": checks["audit"]["ok"],
            "index_mismatches": checks["index"]["mismatches"][:5],
            "index_attempts": checks["index"]["attempts"],
            "evidence": {k: v if isinstance(v, int) else v[:10] for k, v in checks["evidence"].items()},
        }
    }


def print_table(report: dict) -> None:
    f = report["figures"]
    kinds = ", ".join(f"{kind} {n}" for kind, n in f["kills_by_kind"].items())
    rows = [
        ("runs (kills + index damages)", f["runs"], ""),
        ("kills", f["kills"], kinds),
        ("writes acknowledged", f["writes_acknowledged"], f"of {f['writes_attempted']} attempted"),
        ("writes cut off without an answer", f["writes_unanswered"], "may or may not have committed"),
        ("requests refused (server down)", f["requests_refused"], "not writes: nothing reached a worker"),
        ("lost writes", f["lost_writes"], "must be 0"),
        ("audit-verify failures", f["audit_failures"], "must be 0"),
        (
            "index mismatches",
            f["index_mismatches"],
            f"must be 0 ({f['practitioners_compared']} practitioners)",
        ),
        ("orphaned evidence files", f["orphaned_files"], "must be 0"),
        ("missing evidence files", f["missing_files"], "must be 0"),
        ("torn evidence files", f["torn_files"], "must be 0"),
        ("server errors (5xx)", f["server_errors"], "must be 0"),
    ]
    for phase in report["damage"]:
        rebuilt = (
            f"rebuilt in {phase['rebuilt_seconds']} s"
            if phase["rebuilt_seconds"] is not None
            else "NOT rebuilt"
        )
        rows.append(
            (
                f"index {phase['damage']}",
                phase["not_200"],
                f"not-200 of {phase['searches']} searches ({phase['degraded']} degraded), {rebuilt}, "
                f"{phase['checks']['index']['count']} mismatches, {phase['worker_deaths']} worker deaths",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what'.ljust(width)} | {'count':>7} | note")
    print(f"{'-' * width}-|-{'-' * 7}-|-----")
    for what, count, note in rows:
        print(f"{what.ljust(width)} | {count:>7} | {note}")
    verdict = "PASS" if f["failures"] == 0 else f"FAIL ({f['failures']})"
    print(f"\n{verdict}: {f['kills']} kills and {len(report['damage'])} index damages in {f['seconds']} s")
    if not report["indexer"]:
        print("note: no `flask directory indexer` command yet; indexer kills were worker kills")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--database", default=PG_URL, help="a PostgreSQL URL (recreated), or `sqlite`")
    parser.add_argument("--practitioners", type=int, default=8)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-damage", action="store_true", help="skip the index delete/corrupt phases")
    parser.add_argument(
        "--damage-demo",
        type=int,
        default=5000,
        help="demo practitioners added before the index damages, so that rebuilding takes seconds",
    )
    parser.add_argument("--keep", help="work folder to keep (logs, data); default a temporary one")
    parser.add_argument("--out", default=str(RESULTS / "crash.json"))
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="crash-"))
    url = f"sqlite:///{work / 'directory.db'}" if args.database == "sqlite" else args.database
    _quiet()  # here, not in run(): the test suite calls run() and must keep its own log levels
    report = run(
        work,
        url,
        kills=args.kills,
        damages=() if args.no_damage else DAMAGES,
        practitioners=args.practitioners,
        clients=args.clients,
        seed_value=args.seed,
        damage_demo=args.damage_demo,
        progress=sys.stderr.isatty(),
    )
    if url.startswith("postgresql") and not args.keep:
        drop_database(url)
    report["machine"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": url.split("://")[0],
        "work": str(work),
    }
    print_table(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    readme.write()  # the READMEs' tables, from every JSON file now there
    print(f"written {out}")
    if not args.keep and report["figures"]["failures"] == 0:
        shutil.rmtree(work, ignore_errors=True)  # logs are kept when something failed
    elif not args.keep:
        print(f"logs and data kept in {work}")
    raise SystemExit(0 if report["figures"]["failures"] == 0 else 1)


if __name__ == "__main__":
    main()
