"""The search tables: speed against the references (bench.search.speed, bench.search.freshness) and
hostile input (bench.search.hostile). `hostile_table` is also what the hostile bench prints."""

from pathlib import Path

from bench.report.files import missing, read
from bench.report.numbers import fixed, ms

# -- hostile input -------------------------------------------------------------------------------


def hostile_rows(result: dict) -> list[tuple[str, dict, dict | None]]:
    """(name, figures, baseline) for each line of the table. A hostile query's baseline is the plain
    median; a hostile save's is the first search after an ordinary save, which pays what every first
    search after any save pays (the index reopened) whatever the profile holds."""
    plain = result["plain"]
    rows: list[tuple[str, dict, dict | None]] = [("plain mix (bench/search/queries.py)", plain, None)]
    rows += [(kind, row, plain) for kind, row in result["queries"].items()]
    ordinary = result["saves"]["ordinary"]["first"]
    for kind, row in result["saves"].items():
        name = f"first misspelt search after saving: {kind} ({row['first_with_suggestion']} suggested)"
        rows.append((name, row["first"], None if kind == "ordinary" else ordinary))
    return rows


def over(row: dict, base: dict, unit: str) -> str:
    return f"{row[f'max_{unit}'] - base[f'median_{unit}']:+.1f}"


def hostile_table(result: dict) -> tuple[str, list[str]]:
    """The table, and the lines of figures that follow it."""
    plain, ordinary, target = result["plain"], result["saves"]["ordinary"]["first"], result["target"]
    lines = [
        "| searches | n | median / p95 / max ms | peak MB (median / max) | the worst over its baseline |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, row, base in hostile_rows(result):
        cost = "baseline" if base is None else f"{over(row, base, 'ms')} ms, {over(row, base, 'mb')} MB"
        lines.append(
            f"| {name} | {row['n']} | {row['median_ms']:.1f} / {row['p95_ms']:.1f} / {row['max_ms']:.1f} | "
            f"{row['median_mb']:.1f} / {row['max_mb']:.1f} | {cost} |"
        )
    worst, ri, load = result["worst"], result["reindex"], result["load_average"]
    notes = [
        f"worst: {worst['ms']:+.1f} ms ({worst['ms_kind']}), {worst['mb']:+.1f} MB ({worst['mb_kind']}) over its "
        f"baseline: the plain median ({plain['median_ms']:.1f} ms, {plain['median_mb']:.1f} MB), or for a save "
        f"the first search after an ordinary save ({ordinary['median_ms']:.1f} ms, {ordinary['median_mb']:.1f} MB)",
        f"the first search after any save: {over(ordinary, plain, 'ms')} ms, {over(ordinary, plain, 'mb')} MB "
        "over the plain median (the searcher reopens every segment)",
        f"process RSS: {result['rss_mb']['after_warm']} MB after warming, {result['rss_mb']['after']} MB after, "
        f"peak {result['rss_mb']['peak']} MB",
        "reindex: skipped (--no-reindex)"
        if ri.get("skipped")
        else f"reindex: {ri['seconds']} s, peak RSS {ri['peak_rss_mb']} MB",
        f"load average {load['before'][0]:.1f} before, {load['after'][0]:.1f} after "
        f"({result['cpu_busy_elsewhere_before']:.0%} of the CPUs busy elsewhere when timing began)",
        f"target at N={target['N']:,}: worst <= +{target['over_plain_ms']} ms and <= +{target['over_plain_mb']} MB",
    ]
    if result["count"] == target["N"]:
        ok = worst["ms"] <= target["over_plain_ms"] and worst["mb"] <= target["over_plain_mb"]
        notes.append("against it: " + ("ok" if ok else "OVER"))
    return "\n".join(lines), notes


def hostile(results: Path) -> str:
    result = read(results, "hostile-100000.json")
    if result is None:
        return missing("hostile-100000.json")
    table, notes = hostile_table(result)
    return "\n".join(
        [
            f"`{result['command']}`, {result['when'][:10]} ({result['count']:,} demo practitioners, "
            f"{result['hostile_profiles']} hostile profiles):",
            "",
            table,
            "",
            *(f"- {line}" for line in notes),
        ]
    )


# -- speed ---------------------------------------------------------------------------------------

COLUMNS = {
    "engine": "engine",
    "engine (ids)": "engine (ids)",
    "engine HTTP": "engine HTTP",
    "naive SQL": "naive SQL",
    "FTS5": "SQLite FTS5",
    "tantivy": "tantivy",
}
KINDS = {
    "text": "text",
    "location": "location, 25 km, by distance",
    "text+location+filters": "text + 40 km + filters, by relevance",
    "text+location+filters by distance": "the same, by distance",
}
# The kinds as a sentence names them.
SHORT = {
    "text": "text",
    "location": "location-only",
    "text+location+filters": "text + filters by relevance",
    "text+location+filters by distance": "text + filters by distance",
}
SIZES = ("search-100000.json", "search-10000.json")
# A million is shown when it has been run (an hour of the machine: not part of every bench run).
MILLION = "search-1000000.json"
MILLION_TARGETS = {"located_p95_ms": 20, "text_p95_ms": 40}


def speed_table(result: dict) -> str:
    systems = result["systems"]

    def cell(column: str, kind: str) -> str:
        if systems.get(column, {}).get("status") != "ok":
            return "-"
        row = systems[column]["kinds"][kind]
        return f"{ms(row['median_ms'])} / {ms(row['p95_ms'])}"

    lines = ["| kind | " + " | ".join(COLUMNS.values()) + " |", "|" + " --- |" * (len(COLUMNS) + 1)]
    lines += [
        f"| {label} | " + " | ".join(cell(c, kind) for c in COLUMNS) + " |" for kind, label in KINDS.items()
    ]
    return "\n".join(lines)


def slower(result: dict, ours: str, theirs: tuple[str, ...]) -> list[str]:
    """Where `ours` is not faster than every one of `theirs`: '<kind> <median|p95> (ours against theirs)'."""
    kinds = result["systems"]
    found = []
    for kind in KINDS:
        for figure in ("median_ms", "p95_ms"):
            mine = kinds[ours]["kinds"][kind][figure]
            for other in theirs:
                if kinds.get(other, {}).get("status") != "ok":  # skipped in that run
                    continue
                their = kinds[other]["kinds"][kind][figure]
                if mine >= their:
                    found.append(
                        f"the {SHORT[kind]} {figure[:-3]} ({ms(mine)} ms against {other}'s {ms(their)})"
                    )
    return found


def comparison(result: dict) -> str:
    n = f"{result['count']:,}"
    ran = [s for s in ("naive SQL", "FTS5") if result["systems"].get(s, {}).get("status") == "ok"]
    ids = slower(result, "engine (ids)", tuple(ran))
    whole = slower(result, "engine", ("FTS5",))
    return (
        f"At {n}, the query alone (ids) is faster than {' and '.join(ran)} "
        + ("on every kind and percentile" if not ids else "except at " + "; ".join(ids))
        + ", and the whole response faster than FTS5 "
        + ("everywhere." if not whole else "except at " + "; ".join(whole) + ".")
    )


def targets(result: dict, fresh: dict | None) -> str:
    t, kinds = result["targets"], result["systems"]
    p95 = {
        c: [kinds[c]["kinds"][k]["p95_ms"] for k in KINDS]
        for c in ("engine", "engine HTTP")
        if "kinds" in kinds[c]
    }
    ri, http = result["reindex"], result["http"]
    over_http = (
        f"HTTP p95 at most {ms(max(p95['engine HTTP']))} ms (≤ {t['http_p95_ms']}); the gunicorn worker "
        f"{fixed(http['worker_rss_mb'])} MB after the run (≤ {t['worker_rss_mb']})"
        if "engine HTTP" in p95
        else f"HTTP not measured ({kinds['engine HTTP'].get('detail') or kinds['engine HTTP']['status']})"
    )
    text = (
        f"Against the targets at {t['N']:,}: in-process p95 {ms(p95['engine'][0])} ms text (≤ {t['text_p95_ms']}), "
        f"{' / '.join(ms(v) for v in p95['engine'][1:])} ms located (≤ {t['located_p95_ms']}); {over_http}; "
        f"`reindex` {fixed(ri['seconds'])} s (≤ {t['reindex_s']}, peak {fixed(ri['peak_rss_mb'])} MB)"
    )
    if fresh is None:
        return text + "."
    return text + (
        f"; a saved profile is found by the next search {fixed(fresh['median_ms'])} ms (median; p95 "
        f"{fixed(fresh['p95_ms'])} ms, worst {fixed(fresh['max_ms'])} ms) after the save started "
        f"(`python -m bench.search.freshness --keep DIR`, {fresh['rounds']} rounds), because the request that "
        "commits applies its own outbox rows."
    )


def million_targets(result: dict) -> str:
    """The million's targets (in-process p95), with the references' p95 of the same run beside them."""
    systems = result["systems"]

    def p95(system: str, kind: str) -> str:
        found = systems.get(system, {})
        return ms(found["kinds"][kind]["p95_ms"]) if found.get("status") == "ok" else "-"

    located = [k for k in KINDS if k != "text"]
    ri = result["reindex"]
    reindexed = (
        ""
        if ri.get("skipped")
        else f"; `reindex` {fixed(ri['seconds'])} s, peak {fixed(ri['peak_rss_mb'])} MB"
    )
    return (
        f"Against the targets at {result['count']:,} (in-process p95, the same run): text "
        f"{p95('engine', 'text')} ms (≤ {MILLION_TARGETS['text_p95_ms']}; FTS5 {p95('FTS5', 'text')}, tantivy "
        f"{p95('tantivy', 'text')}), located {' / '.join(p95('engine', k) for k in located)} ms "
        f"(≤ {MILLION_TARGETS['located_p95_ms']}; FTS5 {' / '.join(p95('FTS5', k) for k in located)}, tantivy "
        f"{' / '.join(p95('tantivy', k) for k in located)}){reindexed}."
    )


def busy(result: dict) -> str:
    """The machine's load beside a run's figures: the share of its CPUs busy with other work just
    before and just after timing (older runs did not record it)."""
    found = result.get("cpu_busy_elsewhere")
    if not found:
        return ""
    return f", CPUs busy elsewhere {found['before']:.0%} before and {found['after']:.0%} after timing"


def speed(results: Path) -> str:
    found = [(name, read(results, name)) for name in SIZES]
    if any(result is None for _, result in found):
        return missing(*SIZES)
    million = read(results, MILLION)
    if million is not None:
        found.insert(0, (MILLION, million))
    parts = []
    for name, result in found:
        parts += [
            f"N = {result['count']:,} ({result['places']:,} places; `bench/results/{name}`, "
            f"{result['when'][:10]}, {result['machine']['nproc']} CPUs{busy(result)}):",
            "",
            speed_table(result),
            "",
        ]
    largest = found[1 if million is not None else 0][1]
    parts.append(targets(largest, read(results, f"freshness-{largest['count']}.json")))
    if million is not None:
        parts += ["", million_targets(million)]
    parts += ["", " ".join(comparison(result) for _, result in found)]
    return "\n".join(parts)
