"""The README's table of whole test-suite runs (bench.quality.suite), one row per label."""

from pathlib import Path

from bench.report.files import read
from bench.report.numbers import fixed

NAME = "suite.json"
HEAD = (
    "| label | revision | database | workers | tests passed / failed / skipped | wall | CPU (user + sys) "
    "| coverage | load average (1 min, before → after) | command |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)
# Outcomes other than the three columns, named after them only when a run had any.
OTHERS = ("errors", "xfailed", "xpassed", "deselected")


def _cell(text: str) -> str:
    """Text from a commit subject or a label, kept inside its table cell."""
    return text.replace("|", "\\|")


def _minutes(seconds: float) -> str:
    whole = int(fixed(seconds).replace(",", ""))
    return f"{whole // 60}:{whole % 60:02d}"


def _tests(counts: dict[str, int]) -> str:
    main = " / ".join(f"{counts.get(k, 0):,}" for k in ("passed", "failed", "skipped"))
    others = ", ".join(f"{k}: {counts[k]:,}" for k in OTHERS if counts.get(k))
    return f"{main} ({others})" if others else main


def _workers(run: dict) -> str:
    if run["workers"] == "0":
        return "none (one process)"
    return f"auto ({run['cpus']} CPUs)" if run["workers"] == "auto" else run["workers"]


def row(run: dict) -> str:
    rev = run["revision"]
    coverage = "not measured" if run["coverage_percent"] is None else f"{fixed(run['coverage_percent'], 1)}%"
    before, after = run["load_average_before"][0], run["load_average_after"][0]
    return (
        f"| {_cell(run['label'])} | `{rev['short']}` {_cell(rev['subject'])} | {run['database']} | {_workers(run)} | "
        f"{_tests(run['counts'])} | **{fixed(run['wall_seconds'])} s** ({_minutes(run['wall_seconds'])}) | "
        f"{fixed(run['cpu_seconds'])} s | {coverage} | {before:.1f} → {after:.1f} | `{run['command']}` |"
    )


def table(results: Path) -> str:
    runs = read(results, NAME)
    if not runs:
        return f"_No run of the test suite is recorded yet (bench/results/{NAME})._"
    return "\n".join([HEAD, *(row(run) for run in runs)])
