"""The crash bench's table (bench.faults.crash): PostgreSQL beside SQLite."""

import statistics
from pathlib import Path

from bench.report.files import missing, read
from bench.report.numbers import fixed

RUNS = {"PostgreSQL": "crash.json", "SQLite": "crash-sqlite.json"}
ZERO = "lost writes, audit failures, index mismatches, orphaned / missing / torn files, 5xx"


def _damage(run: dict, kind: str) -> str:
    d = next((d for d in run["damage"] if d["damage"] == kind), None)
    if d is None:
        return "not run"
    return f"{d['searches']:,}, {d['not_200']}, {d['degraded']}, {fixed(d['rebuilt_seconds'], 1)} s"


def _restarts(run: dict) -> str:
    by_kind: dict[str, list[float]] = {}
    for r in run["rounds"]:
        by_kind.setdefault(r["kill"], []).append(r["restart_seconds"])
    return ", ".join(
        f"{kind} {statistics.median(s):.2f} / {max(s):.2f} s" for kind, s in sorted(by_kind.items())
    )


def crash(results: Path) -> str:
    runs = {label: read(results, name) for label, name in RUNS.items()}
    if any(run is None for run in runs.values()):
        return missing(*RUNS.values())
    f = {label: run["figures"] for label, run in runs.items()}
    kinds = next(iter(f.values()))["kills_by_kind"]

    def row(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(label) for label in runs) + " |"

    lines = [
        "`bench/results/"
        + "` and `bench/results/".join(RUNS.values())
        + "`, "
        + ", ".join(f"{label} {run['machine']['date'][:10]}" for label, run in runs.items())
        + f", {next(iter(runs.values()))['machine']['cpus']} CPUs:",
        "",
        "| | " + " | ".join(runs) + " |",
        "| --- |" + " --- |" * len(runs),
        row(
            f"kills ({' / '.join(kinds)})",
            lambda x: " / ".join(str(n) for n in f[x]["kills_by_kind"].values()),
        ),
        row(
            "writes acknowledged (of attempted)",
            lambda x: f"{f[x]['writes_acknowledged']:,} ({f[x]['writes_attempted']:,})",
        ),
        row("writes cut off without an answer", lambda x: f"{f[x]['writes_unanswered']:,}"),
        row(
            ZERO, lambda x: str(sum(f[x][k] for k in runs[x]["must_be_zero"] if not k.startswith("damage_")))
        ),
        row("index deleted: searches, not 200, degraded, rebuilt in", lambda x: _damage(runs[x], "delete")),
        row("segment files truncated and garbled", lambda x: _damage(runs[x], "corrupt-segments")),
        row("`CURRENT` garbled", lambda x: _damage(runs[x], "corrupt-current")),
        row("worker deaths during damage", lambda x: str(f[x]["damage_worker_deaths"])),
        row("whole run", lambda x: f"{f[x]['seconds']:.0f} s"),
        "",
        "Restart times, kill to ready (median / worst): "
        + "; ".join(f"{label}: {_restarts(run)}" for label, run in runs.items())
        + ".",
    ]
    return "\n".join(lines)
