"""Hostile input at scale: profiles and queries made to be costly, timed and weighed beside plain searches.

    python -m bench.search.hostile --count 100000 --keep DIR [--no-reindex] [--rounds 20]

Generates N demo practitioners (seed 1; reused with --keep), adds the hostile profiles of PROFILES
unless they are there, reindexes (`flask directory reindex` in a child process, unless --no-reindex),
then runs searches in-process through directory.search.service.search, each in an app context of its
own and from the arguments a request would send (SearchArgsSchema), as the API does:

1. the plain mix of bench/search/queries.py (200 queries after 40 warm-up ones): its median is the baseline;
2. each hostile query kind of QUERIES, `--rounds` different queries of it;
3. saves: an ordinary profile, then each hostile kind saved anew, each followed (after the catch-up its
   saving request does) by the next misspelt search, which is the one that used to pay for the
   spelling table.

Every search is timed alone, then run again under tracemalloc for its peak of Python and NumPy memory
above what it started with (saves: a second set of saves). Prints the table, writes
bench/results/hostile-N.json, and bench.report rewrites the README's tables from it. The target: no hostile
search more than 50 ms or 20 MB above the plain median at 100,000 practitioners.
"""

import argparse
import gc
import itertools
import json
import os
import random
import shutil
import statistics
import string
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS
from bench import report as readme
from bench.harness.processes import rss_mb, step
from bench.harness.scratch import demo_app
from bench.report.search import hostile_rows, hostile_table
from bench.search.engine import bench_env, reindex
from bench.search.queries import SEED, build_queries, http_params, without_verified
from bench.search.speed import cpu_busy, machine, percentile

TARGET = {"N": 100_000, "over_plain_ms": 50, "over_plain_mb": 20}
EMAIL = "hostile-{kind}-{i}@bench.example.org"
PASSWORD = "hostile bench password 1"  # noqa: S105  # nosec B105: a throwaway account of the bench's database
COLD = "_cold"  # not a search parameter: the bench empties the snippets' stem cache first
MARKER = "zorblax"  # in every hostile profile's headline: a query for it lists them, cards and all
PLAIN_WORDS = ("sciatica", "shoulder", "tension", "massage", "stiffness", "pressure", "headaches", "runner")
TYPOS = ("sciatcia", "shouldr", "tensoin", "masage", "stifness", "presure", "headahces", "runer")


def letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def made_up(rng: random.Random, count: int, size: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < count:
        words.setdefault(letters(rng, size), None)
    return list(words)


def _every_three_letters() -> list[str]:
    return ["".join(t) for t in itertools.product(string.ascii_lowercase, repeat=3)]


# Each kind: how many profiles, and the approach of the i-th (5,000 characters at most, as the API allows).
PROFILES = {
    "one 5,000-letter word": (3, lambda rng, i: letters(rng, 5000)),
    "200 made-up words of 24 letters": (5, lambda rng, i: " ".join(made_up(rng, 200, 24))),
    "555 made-up words of 8 letters": (5, lambda rng, i: " ".join(made_up(rng, 555, 8))),
    # 17,576 words of 3 letters, 1,250 a profile: every short word known, every short typo near many.
    "every 3-letter word (14 profiles)": (
        14,
        lambda rng, i: " ".join(_every_three_letters()[i * 1250 : (i + 1) * 1250]),
    ),
    "kana, emoji, marks and controls": (
        2,
        lambda rng, i: ("マッサージ肩こり😀💆\u200d♀️\u0301\u200f\u202e ǅ " * 400)[:5000],
    ),
}
SAVED_KINDS = (
    "ordinary",
    "one 5,000-letter word",
    "200 made-up words of 24 letters",
    "555 made-up words of 8 letters",
)


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


# Each kind: a function of a Random giving the search's parameters (as strings, as a request has them).
QUERIES = {
    "500 random letters": lambda rng: {"q": letters(rng, 500)},
    "166 two-letter words": lambda rng: {"q": " ".join(letters(rng, 2) for _ in range(166))[:500]},
    "100 made-up 4-letter words": lambda rng: {"q": " ".join(made_up(rng, 100, 4))[:500]},
    "20 made-up 24-letter words": lambda rng: {"q": " ".join(made_up(rng, 20, 24))[:500]},
    "19 made-up 25-letter words": lambda rng: {"q": " ".join(made_up(rng, 19, 25))},
    "8 made-up 4-letter words (near many 3-letter ones)": lambda rng: {"q": " ".join(made_up(rng, 8, 4))},
    "8 made-up 5-letter words": lambda rng: {"q": " ".join(made_up(rng, 8, 5))},
    "8 made-up 3-letter words (all known)": lambda rng: {"q": " ".join(made_up(rng, 8, 3))},
    "8 misspelt words": lambda rng: {"q": " ".join(_typo(rng, w) for w in PLAIN_WORDS)},
    "50 misspelt words": lambda rng: {
        "q": " ".join(_typo(rng, rng.choice(PLAIN_WORDS)) for _ in range(50))[:500]
    },
    "one word 55 times": lambda rng: {"q": ((rng.choice(PLAIN_WORDS) + " ") * 55)[:500]},
    "kana, emoji and marks": lambda rng: {"q": ("マッサージ😀\u0301\u200f ǅ " * 50)[:500]},
    "the hostile profiles' marker word": lambda rng: {"q": MARKER},
    # As if other searches had since filled the cache of stems that snippets use (present._stem).
    "the marker word, no stem cached": lambda rng: {"q": MARKER, COLD: True},
    "the marker and 8 misspellings, 40 km, by distance": lambda rng: {
        "q": f"{MARKER} " + " ".join(TYPOS),
        "lat": "34.0522",
        "lon": "-118.2437",
        "radius_km": "40",
        "sort": "distance",
    },
    "10 unknown techniques and conditions": lambda rng: {
        "q": "massage",
        "technique": [letters(rng, 12) for _ in range(10)],
        "condition": [letters(rng, 12) for _ in range(14)],
    },
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench.search.hostile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--count", type=int, default=10_000, help="demo practitioners (default 10000)")
    parser.add_argument("--rounds", type=int, default=20, help="queries of each hostile kind")
    parser.add_argument("--saves", type=int, default=5, help="saves of each kind timed (as many traced)")
    parser.add_argument(
        "--queries", type=int, default=200, help="plain queries (bench/search/queries.py mix)"
    )
    parser.add_argument("--warmup", type=int, default=40, help="untimed plain queries first")
    parser.add_argument("--keep", metavar="DIR", help="work folder kept between runs (database, index)")
    parser.add_argument("--no-reindex", action="store_true", help="with --keep: use the index already built")
    parser.add_argument(
        "--settle", type=int, default=30, help="seconds to wait for other work to stop before timing"
    )
    parser.add_argument("--out", help="JSON path (default bench/results/hostile-N.json)")
    return parser.parse_args(argv)


def prepare(workdir: Path, count: int):
    """The bench's app on its SQLite database: `count` demo practitioners and the hostile profiles."""
    import sqlalchemy as sa

    from directory.accounts.models import User

    app, _, url, data_dir, _ = demo_app(
        workdir, count, ours=lambda: sa.select(User.id).where(User.email.like("hostile-%"))
    )
    with app.app_context():
        added = 0
        for kind, (many, approach) in PROFILES.items():
            for i in range(many):
                added += save(kind, i, approach(random.Random(f"{kind} {i}"), i), create_only=True)
        step(f"hostile profiles: {added} added, {sum(n for n, _ in PROFILES.values()) - added} already there")
    return app, url, data_dir


def save(kind: str, i: int, approach: str, create_only: bool = False) -> int:
    """Save (create or replace) the i-th hostile profile of a kind, as PUT /api/v1/me/profile does."""
    import sqlalchemy as sa

    from directory.accounts import service as accounts
    from directory.accounts.models import User
    from directory.extensions import db
    from directory.practitioners import service as practitioners
    from directory.practitioners.schemas import ProfileInSchema

    slug = "".join(ch if ch.isalnum() else "-" for ch in kind.lower()).strip("-")
    email = EMAIL.format(kind=slug[:40], i=i)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None and create_only and practitioners.profile_of(user) is not None:
        return 0
    if user is None:
        user = accounts.register(email, PASSWORD, "practitioner")
    data = ProfileInSchema().load(
        {
            "display_name": f"Hostile {kind[:40]} {i}",
            "headline": f"{MARKER.title()} {kind[:60]}",
            "approach": approach,
        }
    )
    practitioners.save_profile(user, data)
    return 1


def wait_for_warm(app) -> None:
    """Every segment's postings read and spelling table built, as a worker has them after warming,
    so that no background work falls inside a timed or traced search."""
    from directory.search.node import node

    with app.app_context():
        view = node().ready_view(60.0)
        for reader, _, seg in view.leaves:
            seg.warm(reader)
            seg.spelling(reader, timeout=None)


def searcher(app):
    from directory.search import service
    from directory.search.schemas import SearchArgsSchema

    schema = SearchArgsSchema()

    def run(params: dict) -> dict:
        with app.app_context():
            return service.search(schema.load(params))

    return run


def cold(params: dict) -> dict:
    """The search's parameters; with COLD, the snippets' stem cache is emptied first (untimed)."""
    from directory.search import present

    if params.get(COLD):
        present._cached_stem.cache_clear()
    return {k: v for k, v in params.items() if k != COLD}


def timed(run, params) -> tuple[float, dict]:
    params = cold(params)
    started = time.perf_counter()
    body = run(params)
    return (time.perf_counter() - started) * 1000, body


def traced(run, params) -> float:
    """Peak MB traced (Python and NumPy allocations) during the search, above where it started."""
    params = cold(params)
    gc.collect()
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    run(params)
    return (tracemalloc.get_traced_memory()[1] - start) / 1e6


def summary(ms: list[float], mb: list[float]) -> dict:
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "median_mb": round(statistics.median(mb), 2),
        "max_mb": round(max(mb), 2),
    }


def measure_queries(run, kinds: dict[str, list[dict]]) -> dict:
    """Each kind's searches timed, then traced (tracemalloc slows everything: never both at once)."""
    times = {kind: [timed(run, p)[0] for p in params] for kind, params in kinds.items()}
    tracemalloc.start()
    try:
        memory = {kind: [traced(run, p) for p in params] for kind, params in kinds.items()}
    finally:
        tracemalloc.stop()
    return {kind: summary(times[kind], memory[kind]) for kind in kinds}


def measure_saves(app, run, rounds: int) -> dict:
    """The first misspelt search after each save, and the search after it."""
    from directory.search.node import node

    probe = {"q": "sciatcia shouldr"}
    approach = {
        "ordinary": lambda rng, i: (
            "Gentle sciatica and shoulder work, " + " ".join(rng.sample(PLAIN_WORDS, 5))
        ),
        **{kind: PROFILES[kind][1] for kind in SAVED_KINDS[1:]},
    }
    found: dict = {}
    for kind in SAVED_KINDS:
        first_ms, next_ms, first_mb, suggested = [], [], [], 0
        for i in range(rounds * 2):
            rng = random.Random(f"{kind} save {time.time_ns()} {i}")
            with app.app_context():
                save(f"saved {kind}", i % rounds, approach[kind](rng, i))
                node().catch_up_quietly()  # what the saving request does after its commit
            if i < rounds:
                ms, body = timed(run, probe)
                first_ms.append(ms)
                suggested += body["suggestion"] is not None
                next_ms.append(timed(run, probe)[0])
            else:
                tracemalloc.start()
                try:
                    first_mb.append(traced(run, probe))
                finally:
                    tracemalloc.stop()
            wait_for_warm(app)
        found[kind] = {
            "first": summary(first_ms, first_mb),
            "next_median_ms": round(statistics.median(next_ms), 2),
            "first_with_suggestion": f"{suggested} of {rounds}",
        }
    return found


def worst_of(result: dict) -> dict:
    """The hostile search furthest over its baseline, in time and in memory."""
    hostile = [(name, row, base) for name, row, base in hostile_rows(result) if base is not None]
    found = {}
    for unit in ("ms", "mb"):
        name, row, base = max(hostile, key=lambda r: r[1][f"max_{unit}"] - r[2][f"median_{unit}"])
        found[f"{unit}_kind"] = name
        found[unit] = round(row[f"max_{unit}"] - base[f"median_{unit}"], 2)
    return found


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    step(f"work folder {workdir}")
    try:
        app, url, data_dir = prepare(workdir, args.count)
        if args.no_reindex:
            ri = {"skipped": True}
        else:
            step("reindex (flask --app wsgi directory reindex)")
            ri = reindex(bench_env(url, str(data_dir)))
            if ri["returncode"] != 0:
                raise SystemExit(f"reindex exited {ri['returncode']}")
        run = searcher(app)
        step("warming: every segment's postings and spelling table")
        wait_for_warm(app)
        busy_before, waited = cpu_busy(), 0
        while busy_before > 0.2 and waited < args.settle:
            step(f"{busy_before:.0%} of the CPUs busy elsewhere; waiting for them to settle")
            busy_before, waited = cpu_busy(2.0), waited + 2
        load_before = os.getloadavg()
        plain_queries = without_verified(build_queries(args.queries, SEED))
        for query in without_verified(build_queries(args.warmup, SEED + 1)):
            run(http_params(query))
        rss_warm = rss_mb("self")
        step(f"plain mix: {len(plain_queries)} searches")
        plain = measure_queries(run, {"plain": [http_params(q) for q in plain_queries]})["plain"]
        rng = random.Random(SEED)
        kinds = {kind: [make(rng) for _ in range(args.rounds)] for kind, make in QUERIES.items()}
        for params in kinds.values():  # one untimed pass: what is cached after one search is not the question
            run(cold(params[0]))
        step(f"hostile queries: {len(kinds)} kinds, {args.rounds} each")
        queries = measure_queries(run, kinds)
        step(f"saves: {len(SAVED_KINDS)} kinds, {args.saves} timed and {args.saves} traced each")
        saves = measure_saves(app, run, args.saves)
        command = f"python -m bench.search.hostile --count {args.count}" + (
            " --keep DIR" if args.keep else ""
        )
        result = {
            "count": args.count,
            "hostile_profiles": sum(n for n, _ in PROFILES.values()),
            "command": command,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "reindex": ri,
            "plain": plain,
            "queries": queries,
            "saves": saves,
            "rss_mb": {"after_warm": rss_warm, "after": rss_mb("self"), "peak": rss_mb("self", "VmHWM")},
            "target": TARGET,
            "cpu_busy_elsewhere_before": busy_before,
            "load_average": {"before": load_before, "after": os.getloadavg()},
            "examples": {
                kind: {
                    k: (v[:80] + "…" if isinstance(v, str) and len(v) > 80 else v) for k, v in p[0].items()
                }
                for kind, p in kinds.items()
            },
        }
        result["worst"] = worst_of(result)
        table, notes = hostile_table(result)
        result["table"] = "\n".join([table, "", *notes])
        print(result["table"])
        out = Path(args.out) if args.out else RESULTS / f"hostile-{args.count}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        step(f"wrote {out}")
        if not args.out:
            readme.write()
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
