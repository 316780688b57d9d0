"""Search benchmark: the engine, in-process and over HTTP, beside three references, on the same data.

    .venv/bin/python -m bench.search.speed --count 10000 [--skip-http] [--keep DIR] [--queries 200]

Generates N demo practitioners (or reuses them with --keep), times `flask directory reindex`, builds
the references' stores, runs a warm-up mix (a different seed, so no answer is cached) and then the
fixed mix of bench/search/queries.py through each system, and prints median and p95 milliseconds per kind.
Everything goes to bench/results/search-N.json. Not part of the test suite.
"""

import argparse
import gc
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import REPO, RESULTS
from bench import report as readme
from bench.harness.processes import step
from bench.harness.scratch import demo_app
from bench.report.numbers import ms
from bench.search.corpus import load_corpus, today_ordinal
from bench.search.engine import EngineMissing, Gunicorn, InProcess, InProcessCore, bench_env, reindex
from bench.search.queries import KINDS, SEED, build_queries, without_verified
from bench.search.references import REFERENCES

COLUMNS = ("engine", "engine (ids)", "engine HTTP", "naive SQL", "FTS5", "tantivy")
TARGETS = {
    "N": 100_000,
    "located_p95_ms": 10,
    "text_p95_ms": 20,
    "http_p95_ms": 25,
    "worker_rss_mb": 300,
    "reindex_s": 90,
}
NOT_YET = "engine not available yet"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search.speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--count", type=int, default=10_000, help="practitioners (default 10000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries, a quarter per kind")
    parser.add_argument("--warmup", type=int, default=40, help="untimed queries first (another seed)")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn run")
    parser.add_argument(
        "--skip-naive", action="store_true", help="no naive SQL (minutes a located query at a million)"
    )
    parser.add_argument("--keep", metavar="DIR", help="work folder kept between runs (database, index)")
    parser.add_argument("--no-reindex", action="store_true", help="with --keep: use the index already built")
    parser.add_argument(
        "--verified",
        choices=("auto", "on", "off"),
        default="auto",
        help="the verified filter of kinds 3-4; auto drops it when no one is verified",
    )
    parser.add_argument(
        "--settle", type=int, default=30, help="seconds to wait for other work to stop before timing"
    )
    parser.add_argument("--out", help="JSON path (default bench/results/search-N.json)")
    return parser.parse_args(argv)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)] if ordered else float("nan")


# After its warm-up, a system's own background work (the engine reads every term's postings of a large
# segment in a thread of its own) is let finish before timing: up to this long, while over 20% of the
# CPUs are busy. At 100,000 it is done within the warm-up; at a million it takes tens of seconds.
QUIET_AFTER_WARMUP_S = 120


def run_systems(searches, queries, warmup) -> list[tuple[dict, list]]:
    """Time each query on each system. Systems that share one process's caches (the engine's whole
    response and its query alone) take turns going first, query by query: the first to run a query
    pays for its words' first use, and timed one system after the other, the first paid for every
    word and the second for none."""
    for query in warmup:
        for search in searches:
            search(query)
    waited = 0.0
    while waited < QUIET_AFTER_WARMUP_S and cpu_busy(2.0) > 0.2:
        waited += 2.0
    times: list[dict[str, list[float]]] = [defaultdict(list) for _ in searches]
    answers: list[list] = [[] for _ in searches]
    for i, query in enumerate(queries):
        order = list(range(len(searches)))
        for k in order if i % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            ids = searches[k](query)
            times[k][query.kind].append((time.perf_counter() - started) * 1000)
            answers[k].append(ids)
    return list(zip(times, answers, strict=True))


def summarise(times, answers, queries, engine_answers) -> dict:
    kinds = {}
    for kind in KINDS:
        indexes = [i for i, q in enumerate(queries) if q.kind == kind]
        ms = times[kind]
        row = {
            "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(percentile(ms, 95), 3),
            "mean_results": round(statistics.mean(len(answers[i]) for i in indexes), 1),
            "empty": sum(1 for i in indexes if not answers[i]),
            "slowest": [
                {"ms": round(t, 2), "q": queries[i].q, "place": queries[i].label}
                for t, i in sorted(zip(ms, indexes, strict=True), reverse=True)[:3]
            ],
        }
        if engine_answers is not None:
            row["overlap_with_engine"] = round(
                statistics.mean(overlap(engine_answers[i], answers[i]) for i in indexes), 2
            )
        kinds[kind] = row
    return kinds


def overlap(a: list[int], b: list[int]) -> float:
    """Share of the top 20 the two answers have in common (1.0 when both are empty)."""
    return len(set(a) & set(b)) / max(len(a), len(b)) if (a or b) else 1.0


def measure(name: str, make, queries, warmup, engine_answers=None) -> tuple[dict, list | None]:
    """Run one system; an absent engine or a failing one is recorded, not fatal."""
    return measure_together([(name, make)], queries, warmup, engine_answers)[0]


def measure_together(systems, queries, warmup, engine_answers=None) -> list[tuple[dict, list | None]]:
    """Run systems (name, make) query by query, taking turns (run_systems); the first system's answers
    are the engine's when `engine_answers` is None."""
    names = ", ".join(name for name, _ in systems)
    step(f"running {names}: {len(warmup)} warm-up, {len(queries)} timed")
    try:
        searches = [make() for _, make in systems]
        runs = run_systems(searches, queries, warmup)
    except EngineMissing as exc:
        step(f"{names}: {NOT_YET} ({exc})")
        return [({"status": NOT_YET, "detail": str(exc)}, None) for _ in systems]
    except Exception as exc:
        if not systems[0][0].startswith("engine"):
            raise
        traceback.print_exc()
        return [({"status": "error", "detail": f"{type(exc).__name__}: {exc}"}, None) for _ in systems]
    own = engine_answers is None  # the first system is the engine: the others are compared with it
    reference = runs[0][1] if own else engine_answers
    measured = []
    for k, (times, answers) in enumerate(runs):
        kinds = summarise(times, answers, queries, None if own and k == 0 else reference)
        measured.append(({"status": "ok", "kinds": kinds}, answers))
    return measured


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over the next `seconds` while this process sleeps: other work that
    would share the CPUs with the timed runs (the load average still counts a reindex just done)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 2)


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607  (read-only, for the record)
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "tantivy": _version("tantivy"),
        "git_head": head or None,
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cell(system: dict, kind: str) -> str:
    if system["status"] != "ok":
        return "not available yet" if system["status"] == NOT_YET else system["status"]
    row = system["kinds"][kind]
    return f"{ms(row['median_ms'])} / {ms(row['p95_ms'])}"


def detail_cell(system: dict, kind: str) -> str:
    if system["status"] != "ok":
        return "-"
    row = system["kinds"][kind]
    shared = f" / {row['overlap_with_engine']:.2f}" if "overlap_with_engine" in row else ""
    return f"{row['mean_results']:g}{shared}"


def table(systems: dict, fill) -> str:
    head = "| kind | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (len(COLUMNS) + 1)]
    for kind in KINDS:
        lines.append(f"| {kind} | " + " | ".join(fill(systems[c], kind) for c in COLUMNS) + " |")
    return "\n".join(lines)


def report(result: dict) -> str:
    systems = result["systems"]
    ri, http = result["reindex"], result.get("http") or {}
    lines = [
        f"Search bench: N={result['count']} practitioners, {result['places']} places, "
        f"{result['queries']} queries ({result['queries'] // len(KINDS)} per kind); "
        f"{result['machine']['nproc']} CPUs, Python {result['machine']['python']}",
        "",
        "median / p95 ms per query",
        table(systems, cell),
        "",
        "mean results returned (of 20) / share of top 20 in common with the engine",
        table(systems, detail_cell),
        "",
        "reindex: skipped (--no-reindex)"
        if ri.get("skipped")
        else f"reindex: {ri['seconds']} s (exit {ri['returncode']}, peak RSS {ri['peak_rss_mb']} MB)",
        f"gunicorn worker RSS after the run: {http['worker_rss_mb']} MB (peak {http['worker_peak_rss_mb']} MB)"
        if http
        else "gunicorn worker RSS: not measured (no HTTP run)",
        "reference builds: " + ", ".join(f"{k} {v} s" for k, v in result["reference_build_s"].items()),
    ]
    lines += [f"note: {note}" for note in result["notes"]]
    lines.append(
        f"targets at N={TARGETS['N']:,}: p95 <= {TARGETS['located_p95_ms']} ms located, "
        f"<= {TARGETS['text_p95_ms']} ms text only, HTTP <= {TARGETS['http_p95_ms']} ms, "
        f"worker <= {TARGETS['worker_rss_mb']} MB, reindex <= {TARGETS['reindex_s']} s"
    )
    if result["count"] == TARGETS["N"]:
        lines.append("against them: " + "; ".join(verdict(result)))
    return "\n".join(lines)


def verdict(result: dict) -> list[str]:
    """Each target with the figure it is judged by, and whether it is met."""
    checks = []
    systems = result["systems"]
    for column, limit_of in (
        ("engine", lambda kind: TARGETS["text_p95_ms"] if kind == KINDS[0] else TARGETS["located_p95_ms"]),
        ("engine HTTP", lambda kind: TARGETS["http_p95_ms"]),
    ):
        if systems.get(column, {}).get("status") != "ok":
            continue
        for kind in KINDS:
            p95, limit = systems[column]["kinds"][kind]["p95_ms"], limit_of(kind)
            checks.append(f"{column} {kind} p95 {p95:.1f} {'ok' if p95 <= limit else 'OVER'}")
    http, ri = result.get("http") or {}, result["reindex"]
    if http.get("worker_rss_mb") is not None:
        rss = http["worker_rss_mb"]
        checks.append(f"worker {rss} MB {'ok' if rss <= TARGETS['worker_rss_mb'] else 'OVER'}")
    if ri.get("returncode") == 0:
        checks.append(
            f"reindex {ri['seconds']} s {'ok' if ri['seconds'] <= TARGETS['reindex_s'] else 'OVER'}"
        )
    return checks


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    step(f"work folder {workdir}")
    notes: list[str] = []
    try:
        app, db_path, url, data_dir, generated = demo_app(workdir, args.count)
        env = bench_env(url, str(data_dir))
        if args.no_reindex:
            ri = {"skipped": True}
        else:
            step("reindex (flask --app wsgi directory reindex)")
            ri = reindex(env)
            if ri["returncode"] != 0:
                notes.append(f"reindex exited {ri['returncode']}: {NOT_YET}?")
        step("reading the corpus for the references")
        docs = load_corpus(str(db_path))
        # The references' corpus is a Python object per practitioner, alive through every run: frozen,
        # the collector no longer walks it (at a million each full collection paused a search for tens
        # of ms, and the engine's whole responses, which allocate more, paid most of them).
        gc.freeze()
        verified = sum(1 for d in docs if d.verified_until >= today_ordinal())
        queries, warmup = build_queries(args.queries, SEED), build_queries(args.warmup, SEED + 1)
        if args.verified == "off" or (args.verified == "auto" and verified == 0):
            queries, warmup = without_verified(queries), without_verified(warmup)
            notes.append(
                f"verified filter dropped from kinds 3-4 ({verified} verified practitioners in the data)"
            )
        busy_before, waited = cpu_busy(), 0
        while busy_before > 0.2 and waited < args.settle:
            step(f"{busy_before:.0%} of the CPUs busy elsewhere; waiting for them to settle")
            busy_before, waited = cpu_busy(2.0), waited + 2
        if busy_before > 0.2:
            notes.append(f"{busy_before:.0%} of the CPUs were busy with other work when timing began")
            step(f"warning: {notes[-1]}")
        systems: dict[str, dict] = {}
        (systems["engine"], engine_answers), (systems["engine (ids)"], _) = measure_together(
            [("engine", lambda: InProcess(app).search), ("engine (ids)", lambda: InProcessCore(app).search)],
            queries,
            warmup,
        )
        builds = {}
        for reference_class in REFERENCES:
            reference = reference_class()
            if args.skip_naive and reference.name == "naive SQL":
                systems[reference.name] = {"status": "skipped"}
                notes.append("naive SQL skipped (--skip-naive)")
                continue
            step(f"building {reference.name}")
            started = time.perf_counter()
            try:
                reference.build(docs, workdir)
            except ImportError as exc:  # tantivy is a bench-only dependency: pip install -e '.[bench]'
                step(f"{reference.name}: not installed ({exc})")
                systems[reference.name] = {"status": "not installed", "detail": str(exc)}
                continue
            builds[reference.name] = round(time.perf_counter() - started, 2)
            systems[reference.name], _ = measure(
                reference.name, lambda r=reference: r.search, queries, warmup, engine_answers
            )
        http = None
        if args.skip_http:
            systems["engine HTTP"] = {"status": "skipped"}
            notes.append("HTTP skipped (--skip-http)")
        else:
            step("starting gunicorn (1 worker, loopback)")
            with Gunicorn(env, workdir / "gunicorn.log") as server:
                systems["engine HTTP"], _ = measure(
                    "engine HTTP", lambda: server.search, queries, warmup, engine_answers
                )
                http = {
                    "port": server.port,
                    "worker_pids": server.worker_pids(),
                    "worker_rss_mb": server.worker_rss_mb(),
                    "worker_peak_rss_mb": server.worker_rss_mb("VmHWM"),
                }
        result = {
            "count": args.count,
            "places": sum(len(d.places) for d in docs),
            "verified_practitioners": verified,
            "queries": len(queries),
            "warmup": len(warmup),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "cpu_busy_elsewhere": {"before": busy_before, "after": cpu_busy()},
            "generated": generated,
            "reindex": ri,
            "http": http,
            "reference_build_s": builds,
            "systems": systems,
            "targets": TARGETS,
            "notes": notes,
            "query_mix": [q.__dict__ for q in queries],
        }
        text = report(result)
        print(text)
        out = Path(args.out) if args.out else RESULTS / f"search-{args.count}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({**result, "table": text}, indent=2, ensure_ascii=False) + "\n")
        readme.write()  # the READMEs' tables, from every JSON file now there
        step(f"wrote {out}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
