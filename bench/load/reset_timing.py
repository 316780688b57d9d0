"""Password-reset timing for a known and an unknown address: does the answer's time tell them apart?

Asks for a reset `--tries` times each (alternating, so drift hits both alike) through the API with the
production password hash, and times each answer as the client gets it; the queued mail is sent after
that (the response is closed outside the timed region, as a server closes it after the last byte).
Prints both spreads (min, p10, median, p90, max) and the difference of the medians, writes
bench/results/reset-timing[-dialect].json, from which bench.report rewrites the README's table.

    python -m bench.load.reset_timing [--tries 50] [--database-url <empty scratch database>]
"""

import argparse
import json
import os
import platform
import statistics
import time

from bench import RESULTS
from bench import report as readme
from bench.harness.scratch import drop_tables, scratch_app


def spread(samples: list[float]) -> dict:
    ordered = sorted(samples)
    deciles = statistics.quantiles(ordered, n=10)
    return {
        "min_ms": ordered[0] * 1000,
        "p10_ms": deciles[0] * 1000,
        "median_ms": statistics.median(ordered) * 1000,
        "p90_ms": deciles[-1] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def measure(app, tries: int) -> dict:
    from directory.accounts import service
    from directory.extensions import db

    with app.app_context():
        service.create_admin("known@example.org", "a long bench password")  # any account with a password
        db.session.commit()
    client = app.test_client()
    timings = {"known": [], "unknown": []}
    for n in range(tries * 2):
        kind = "known" if n % 2 == 0 else "unknown"
        # One address each, asked for alike, so the rows either one piles up are the same.
        email = "known@example.org" if kind == "known" else "nobody@example.org"
        started = time.perf_counter()
        response = client.post("/api/v1/auth/password-reset", json={"email": email})
        elapsed = time.perf_counter() - started
        response.close()  # the queued mail goes now, outside the timed answer
        if response.status_code != 202:
            raise SystemExit(f"reset answered {response.status_code}: {response.get_data(as_text=True)}")
        timings[kind].append(elapsed)
    return {kind: spread(samples) for kind, samples in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument(
        "--database-url",
        help="an EMPTY scratch database instead of a temporary SQLite file (its tables are dropped)",
    )
    args = parser.parse_args()
    from flask_migrate import upgrade

    app, _, dialect = scratch_app(args.database_url, "reset-bench-", PASSWORD_RESETS_PER_HOUR=10**6)
    with app.app_context():
        upgrade()
    try:
        result = measure(app, args.tries)
    finally:
        if args.database_url:
            drop_tables(app)
    gap = result["unknown"]["median_ms"] - result["known"]["median_ms"]
    command = "python -m bench.load.reset_timing" + (f" --tries {args.tries}" if args.tries != 50 else "")
    if args.database_url:
        command += " --database-url <empty scratch database>"
    record = {
        "database": dialect,
        "tries": args.tries,
        **result,
        "median_gap_ms": gap,
        "command": command,
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "reset-timing" + ("" if dialect == "sqlite" else f"-{dialect}") + ".json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
    for kind in ("known", "unknown"):
        s = result[kind]
        print(
            f"{kind:8} min {s['min_ms']:.2f}  p10 {s['p10_ms']:.2f}  median {s['median_ms']:.2f}  "
            f"p90 {s['p90_ms']:.2f}  max {s['max_ms']:.2f} ms"
        )
    print(f"median gap (unknown - known): {gap:+.2f} ms")
    readme.write()


if __name__ == "__main__":
    main()
