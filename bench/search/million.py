"""Bulk growth: `demo --count N` then `reindex`, each timed in its own child, with its memory followed.

    .venv/bin/python -m bench.search.million --count 1000000 [--database-url URL] [--keep DIR]

SQLite in a fresh work folder unless --database-url names a PostgreSQL database (migrated here). Each
command runs as `flask --app wsgi directory ...` with its progress bar on this terminal; its resident
memory is sampled every second from /proc, so the JSON shows whether memory grows with the count
(it must not: both commands work a batch at a time) and not only the peak. Peak RSS is the kernel's
figure for the largest process (wait4's ru_maxrss); the tree's is the sampled sum with the writer
processes reindex starts. Writes bench/results/million[-postgresql].json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import REPO, RESULTS
from bench import report as readme
from bench.harness.processes import children, rss_mb, step
from bench.search.engine import bench_env


def run_measured(args: list[str], env: dict[str, str]) -> dict:
    """One flask command: wall time, exit code, peak RSS (MB), and RSS samples over time."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "directory", *args]
    step(" ".join(["flask --app wsgi directory", *args]))
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, env=env)  # noqa: S603  (our interpreter, our arguments)
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        # A sample every second, thinned to every 10 s in the JSON: enough to see a slope. The sum
        # over the command and its own children: reindex hands documents to SEARCH_INDEX_PROCS
        # writer processes, each with its own memory (wait4's figure is the largest one alone).
        while not done.wait(1.0):
            sizes = [rss_mb(pid) for pid in (child.pid, *children(child.pid))]
            if sizes[0] is not None:
                samples.append((round(time.perf_counter() - started, 1), round(sum(filter(None, sizes)), 1)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix the two commands).
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "command": "flask --app wsgi directory " + " ".join(args),
        "seconds": round(seconds, 1),
        "returncode": child.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": max((rss for _, rss in samples), default=None),
        "rss_mb_first_quarter_max": _quarter_max(samples, 0),
        "rss_mb_last_quarter_max": _quarter_max(samples, 3),
        "rss_samples": [s for i, s in enumerate(samples) if i % 10 == 0],
    }


def _quarter_max(samples: list[tuple[float, float]], quarter: int) -> float | None:
    """Highest RSS in one quarter of the run: flat memory shows the same figure in the first and last."""
    n = len(samples)
    part = samples[quarter * n // 4 : (quarter + 1) * n // 4]
    return max((rss for _, rss in part), default=None)


def migrate(env: dict[str, str]) -> None:
    step("flask --app wsgi db upgrade")
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env, check=True
    )


def load() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search.million", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL database to use (default: SQLite in DIR)")
    parser.add_argument(
        "--keep", metavar="DIR", help="work folder kept afterwards (default: a temporary one)"
    )
    parser.add_argument("--out", help="JSON path (default bench/results/million[-postgresql].json)")
    args = parser.parse_args(argv)
    workdir = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-million-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{workdir / 'directory.db'}"
    backend = url.split(":", 1)[0].split("+", 1)[0]
    env = bench_env(url, str(workdir / "data"))
    step(f"work folder {workdir}, database {backend}, load average {load()}")
    try:
        migrate(env)
        load_before = load()
        demo = run_measured(["demo", "--count", str(args.count), "--seed", str(args.seed)], env)
        reindexed = run_measured(["reindex"], env)
        disk = sum(f.stat().st_size for f in workdir.rglob("*") if f.is_file())
        result = {
            "count": args.count,
            "database": backend,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "load_before": load_before,
            "load_after": load(),
            "work_folder_mb": round(disk / 2**20),
            "demo": demo,
            "reindex": reindexed,
        }
        lines = [
            f"Bulk growth: {args.count:,} practitioners on {backend} ({os.cpu_count()} CPUs, "
            f"load {load_before['1min']} before, {result['load_after']['1min']} after)",
            "| command | wall s | peak RSS MB, largest process / all | all, max of first / last quarter | exit |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in (demo, reindexed):
            lines.append(
                f"| `{row['command']}` | {row['seconds']} | {row['peak_rss_mb']} / {row['peak_tree_rss_mb']} | "
                f"{row['rss_mb_first_quarter_max']} / {row['rss_mb_last_quarter_max']} | {row['returncode']} |"
            )
        lines.append(f"work folder (database + index): {result['work_folder_mb']} MB")
        text = "\n".join(lines)
        print(text)
        suffix = "" if backend == "sqlite" else f"-{backend}"
        out = Path(args.out) if args.out else RESULTS / f"million{suffix}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**result, "table": text}, indent=2) + "\n")
        readme.write()  # the READMEs' tables, from every JSON file now there
        step(f"wrote {out}")
        return 0 if demo["returncode"] == reindexed["returncode"] == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
