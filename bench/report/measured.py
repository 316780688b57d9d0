"""The README's table of whole-system runs: fuzzing, a million practitioners, many visitors, replicas."""

from pathlib import Path

from bench.report.files import missing, read
from bench.report.mutation import measured_row as mutation
from bench.report.numbers import fixed

HEAD = "| what | command | result |\n| --- | --- | --- |"
# The load bench's endpoints, by the names the table gives them.
ENDPOINTS = {
    "GET /api/v1/search": "search API",
    "GET / (search page)": "search page",
    "GET /api/v1/practitioners/<id>": "profile API",
    "GET /practitioners/<id>": "profile page",
    "POST /api/v1/practitioners/<id>/reviews": "review",
    "PUT /api/v1/me/profile": "save",
}


def fuzz(f: dict) -> list[str]:
    s = f["stateful"]
    return [
        f"| contract fuzzing: every /api/v1 operation ({f['operations']}), up to {f['examples_per_operation_and_mode']} "
        f"positive and {f['examples_per_operation_and_mode']} negative schemathesis cases each, then "
        f"{s['scenarios']} stateful scenarios along the OpenAPI links | "
        f"`python -m bench.faults.fuzz --examples {f['examples_per_operation_and_mode']}` | "
        f"{f['examples']:,} cases in {fixed(f['seconds'])} s and {s['calls']:,} stateful calls ({s['linked_calls']:,} "
        f"along links) in {fixed(s['seconds'])} s: {f['failures']} failures (no 5xx, no undocumented status, "
        "no body off its schema) |"
    ]


def million(f: dict) -> list[str]:
    demo, ri = f["demo"], f["reindex"]
    where = "" if f["database"] == "sqlite" else " --database-url <an empty PostgreSQL database>"
    return [
        f"| demo data, {f['count']:,} practitioners, with credentials and reviews ({f['database']}, run "
        f"{f['when'][:10]}) | "
        f"`python -m bench.search.million --count {f['count']}{where}` (runs `demo --count {f['count']}`, then `reindex`) | "
        f"{fixed(demo['seconds'])} s, peak {fixed(demo['peak_rss_mb'])} MB (highest RSS in the first quarter "
        f"{fixed(demo['rss_mb_first_quarter_max'])} MB, in the last {fixed(demo['rss_mb_last_quarter_max'])} MB: flat); "
        f"{fixed(f['work_folder_mb'] / 1000, 1)} GB of "
        + ("database and index |" if f["database"] == "sqlite" else "index (the database is the server's) |"),
        f"| reindex at {f['count']:,} ({f['database']}) | same | {fixed(ri['seconds'])} s; "
        + _reindex_memory(ri)
        + f". Load average {f['load_before']['1min']:.1f} before, {f['load_after']['1min']:.1f} after |",
    ]


def _reindex_memory(ri: dict) -> str:
    # A run whose samples were of the command alone says so in a note (bench.search.million has since
    # sampled the command with its build processes).
    if "tree_note" in ri:
        return (
            f"the command {fixed(ri['rss_mb_first_quarter_max'])} / {fixed(ri['rss_mb_last_quarter_max'])} MB in "
            f"its first / last quarter, {fixed(ri['peak_tree_rss_mb'])} MB with its writer processes"
        )
    return (
        f"the largest process {fixed(ri['peak_rss_mb'])} MB at its peak; all of them together (the command and "
        f"its `SEARCH_INDEX_PROCS` build processes) at most {fixed(ri['rss_mb_first_quarter_max'])} / "
        f"{fixed(ri['rss_mb_last_quarter_max'])} MB in the first / last quarter"
    )


def load(f: dict) -> list[str]:
    by_name = {e["endpoint"]: e for e in f["endpoints"]}
    total = by_name["all"]
    timings = ", ".join(
        f"{label} {e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']}"
        for name, label in ENDPOINTS.items()
        if (e := by_name.get(name))
    )
    errors = sum(e["errors"] for e in f["endpoints"] if e["endpoint"] != "all")
    limited = sum(e["intended_429"] for e in f["endpoints"] if e["endpoint"] != "all")
    return [
        f"| load: {f['users']} visitors, 70% search (API and page), 20% profile views, 5% reviews, 5% profile saves; "
        f"gunicorn `gunicorn.conf.py` with {f['workers']} workers, PostgreSQL, {f['count']:,} practitioners, "
        f"loopback, {f['duration_s']} s | `python -m bench.load.visitors` (locust headless; "
        f"`bench/load/locustfile.py`) | {fixed(total['rps'])} req/s; p50 / p95 / p99 ms: {timings}; "
        f"{total['requests']:,} requests, {errors} errors, {limited} 429s. Load generator on the same "
        f"{f['nproc']} cores (load average {f['load_before'][0]:.1f} before, {f['load_after'][0]:.1f} after)"
        + _memory(f)
        + " |",
        *_wrk(f),
    ]


def _memory(f: dict) -> str:
    if not f.get("rss_samples"):
        return ""
    return (
        f"; worker RSS every {fixed(f['rss_every_s'])} s, highest {fixed(f['rss_highest_mb'])} MB "
        f"({len(f['rss_samples'])} samples)"
    )


def _wrk(f: dict) -> list[str]:
    w = f.get("wrk")
    if not w:
        return []
    return [
        f"| the same server after the load: one search (`{w['search']['path']}`) through wrk beside `/healthz`, "
        f"{w['connections']} connections, {w['seconds']} s each | same | search {fixed(w['search']['requests_per_s'])} "
        f"req/s, `/healthz` {fixed(w['healthz']['requests_per_s'])} req/s: **{w['share']:.1%}**; non-2xx "
        f"{w['search']['non_2xx'] + w['healthz']['non_2xx']}; load average {w['search']['load_1min_after']:.1f} after |"
    ]


def _spread(s: dict) -> str:
    return ", ".join(f"{k[:-3]} {fixed(s[k])} ms" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))


def replica(f: dict) -> list[str]:
    load, before_after = f["load"], f["machine"]["load_average"]
    statuses = ", ".join(f"{n} × {code}" for code, n in sorted(load["statuses"].items()))
    mismatched = sum(load["index_mismatches"].values())
    return [
        f"| replica lag: a profile saved through node A until node B's search returns it ({f['nodes']}, "
        f"{f['practitioners']:,} practitioners, {f['changes']} saves, B polled every {fixed(f['poll_ms'])} ms) | "
        f"`python -m bench.nodes.replica --database-url <empty scratch database> --count {f['practitioners']} "
        f"--changes {f['changes']} --load-rounds {load['rounds']}` | {_spread(f['found_by_search_on_b'])} "
        f"(target: p99 under {fixed(f['target_p99_ms'])} ms); load average {before_after[0]:.1f} before, "
        f"{before_after[1]:.1f} after |",
        f"| the same, until B's indexer alone has applied it (no search on B) | same | "
        f"{_spread(f['applied_by_indexer_on_b'])} (the 200 ms poll plus one batch) |",
        f"| {load['processes']} client processes against both nodes, saving profiles and deciding credentials, "
        f"{load['rounds']} rounds | same | {load['requests']:,} requests: {statuses} (409: the other admin decided "
        f"first), {load['unexpected']} unexpected; afterwards {mismatched} documents differ between an index and "
        "the database; a traceback in a node's log: "
        f"{'yes' if any(load['tracebacks_in_logs'].values()) else 'none'} |",
    ]


def table(results: Path) -> str:
    rows, absent = [], []
    for name, render in (
        ("fuzz.json", fuzz),
        ("million.json", million),
        ("million-postgresql.json", million),
        ("load.json", load),
        ("replica-10000.json", replica),
        ("mutation.json", mutation),
    ):
        found = read(results, name)
        if found is None:
            absent.append(name)
        else:
            rows += render(found)
    return "\n".join([HEAD, *rows] + (["", missing(*absent)] if absent else []))
