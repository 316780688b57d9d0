"""Contract fuzzing, deep: schemathesis against every /api/v1 operation, in-process, many examples.

    .venv/bin/python -m bench.faults.fuzz --examples 500 [--scenarios 200 --steps 20] [--only credentials]

The same driver as tests/contract (tests/contract/fuzzing.py, world.py) on a temporary SQLite
database migrated for the run: per operation, `--examples` positive and as many negative cases,
sent with a fitting role's token, another's or none, with real ids mixed into the path; then the
stateful run along the document's OpenAPI links. Prints a table per operation (examples, statuses,
distinct failures) and writes bench/results/fuzz.json. Not part of the test suite.
"""

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import RESULTS
from bench import report as readme
from bench.harness.processes import step

# The service as the test suite runs it: fast password hashing, no per-address rate limits (the
# per-account limits counted in the database stay on), nothing reaching past loopback.
CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "bench-fuzz",
    "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
    "RATELIMIT_ENABLED": False,
    "WTF_CSRF_ENABLED": False,
    "MAP_TILE_URL": "",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.faults.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="per operation and mode (default 500)")
    parser.add_argument(
        "--scenarios", type=int, default=200, help="stateful scenarios (default 200; 0 skips)"
    )
    parser.add_argument("--steps", type=int, default=20, help="at most this many calls a scenario")
    parser.add_argument("--only", help="operations whose label contains this text")
    parser.add_argument("--out", default=str(RESULTS / "fuzz.json"), help="JSON path")
    return parser.parse_args(argv)


def stateless(app, examples: int, only: str | None) -> list:
    """Area by area (OpenAPI tag), each from the just-migrated database and a new world, as the
    suite does: a revocation fuzzed in one area leaves the next area its verified credential."""
    from directory.extensions import db
    from tests import dbreset
    from tests.contract import fuzzing
    from tests.contract.world import build_world

    snapshot = dbreset.take_snapshot(db.engine)
    schema = fuzzing.load_schema(app)
    reports = []
    world, area = None, None
    for operation in fuzzing.operations(schema):
        if only and only not in operation.label:
            continue
        if world is None or operation.tags[0] != area:
            db.session.remove()
            dbreset.restore(db.engine, snapshot)
            world, area = build_world(app), operation.tags[0]
        started = time.perf_counter()
        report = fuzzing.OperationReport(operation.label)
        for mode in fuzzing.MODES:
            fuzzing.fuzz_operation(operation, world, examples, mode, report)
        report.seconds = time.perf_counter() - started
        reports.append(report)
        found = len(report.distinct_failures())
        step(f"{operation.label}: {sum(report.examples.values())} examples, {found} failures")
    return reports


def stateful(app, scenarios: int, steps: int) -> dict:
    from tests.contract import fuzzing

    schema = fuzzing.load_schema(app)
    started = time.perf_counter()
    failure = None
    counts = {}
    try:
        counts = fuzzing.run_stateful(schema, fuzzing.starting_over(app), scenarios, steps)
    except Exception as exc:  # a failed scenario: recorded and printed, the report still written
        failure = f"{type(exc).__name__}: {exc}"
    return {
        "scenarios": scenarios,
        "max_steps": steps,
        "calls": sum(counts.values()),
        "linked_calls": sum(n for (_, _, how), n in counts.items() if how == "linked"),
        "by_operation": {f"{op} -> {status} ({how})": n for (op, status, how), n in sorted(counts.items())},
        "failure": failure,
        "seconds": round(time.perf_counter() - started, 1),
    }


def print_table(reports: list, flow: dict | None) -> None:
    width = max(len(r.operation) for r in reports)
    print(f"\n{'operation':<{width}}  {'positive':>8}  {'negative':>8}  {'failures':>8}  statuses")
    for r in reports:
        statuses = " ".join(f"{code}×{n}" for code, n in sorted(r.statuses.items()))
        row = f"{r.operation:<{width}}  {r.examples['positive']:>8}  {r.examples['negative']:>8}"
        print(f"{row}  {len(r.distinct_failures()):>8}  {statuses}")
    total = sum(sum(r.examples.values()) for r in reports)
    failures = [f for r in reports for f in r.distinct_failures()]
    print(f"\n{len(reports)} operations, {total} examples, {len(failures)} distinct failures")
    for failure in failures:
        print(f"\n{failure}")
    if flow:
        print(
            f"\nstateful: {flow['scenarios']} scenarios, {flow['calls']} calls "
            f"({flow['linked_calls']} along links), {flow['seconds']} s, "
            f"{'failed: ' + flow['failure'] if flow['failure'] else 'no failure'}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from flask_migrate import upgrade

    from directory import create_app

    # A fuzzed 401 or 403 each writes a security log line; thousands of them say nothing here.
    logging.getLogger("directory.security").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'directory.db'}"
        app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": str(Path(workdir) / "data")})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            reports = stateless(app, args.examples, args.only)
            stateless_seconds = time.perf_counter() - started
            flow = stateful(app, args.scenarios, args.steps) if args.scenarios else None
    print_table(reports, flow)
    failures = [f for r in reports for f in r.distinct_failures()]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            name: metadata.version(name) for name in ("schemathesis", "hypothesis", "flask-smorest")
        },
        "examples_per_operation_and_mode": args.examples,
        "operations": len(reports),
        "examples": sum(sum(r.examples.values()) for r in reports),
        "failures": len(failures),
        "seconds": round(stateless_seconds, 1),
        "by_operation": [
            {
                "operation": r.operation,
                "examples": dict(r.examples),
                "statuses": {str(code): n for code, n in sorted(r.statuses.items())},
                "failures": [vars(f) for f in r.distinct_failures()],
                "seconds": round(r.seconds, 2),
            }
            for r in reports
        ],
        "stateful": flow,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    readme.write()  # the READMEs' tables, from every JSON file now there
    step(f"wrote {out}")
    return 1 if failures or (flow and flow["failure"]) else 0


if __name__ == "__main__":
    sys.exit(main())
