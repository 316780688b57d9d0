"""The README's mutation figures (bench.quality.mutation): one row per rule module, and the whole run."""

from pathlib import Path

from bench.report.files import missing, read
from bench.report.numbers import fixed

NAME = "mutation.json"
COMMAND = "python -m bench.quality.mutation"
HEAD = (
    "| module | what it holds | mutants | killed | timeout | survived | untested | equivalent | share "
    "| run time |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def share(value: float | None) -> str:
    return "-" if value is None else f"{fixed(value * 100, 1)}%"


def _state(m: dict) -> str:
    """A stopped module's share is over what it reached; never shown as if complete."""
    if m["complete"]:
        return share(m["share"])
    return f"{share(m['share'])} (stopped: {m['not_judged']:,} not reached)"


def row(name: str, m: dict) -> str:
    counts = " | ".join(
        f"{m[k]:,}" for k in ("mutants", "killed", "timeout", "survived", "untested", "equivalent")
    )
    return f"| {name} | {m['rule']} | {counts} | {_state(m)} | {fixed(m['seconds'])} s |"


def table(results: Path) -> str:
    found = read(results, NAME)
    if found is None:
        return missing(NAME)
    modules, total = found["modules"], found["overall"]
    stopped = [name for name, m in sorted(modules.items()) if not m["complete"]]
    counts = " | ".join(
        f"{total[k]:,}" for k in ("mutants", "killed", "timeout", "survived", "untested", "equivalent")
    )
    lines = [
        f"{found['tool']}, each module against its own tests (`{COMMAND}`; `--module NAME` for one):",
        "",
        HEAD,
        *(row(name, m) for name, m in sorted(modules.items())),
        f"| **all** | | {counts} | **{share(total['share'])}** | {fixed(total['seconds'])} s |",
    ]
    if stopped:
        lines += ["", f"_Stopped before the end: {', '.join(stopped)}._"]
    return "\n".join(lines)


def measured_row(f: dict) -> list[str]:
    """The Measured table's line: the whole run in one figure."""
    total = f["overall"]
    judged = total["killed"] + total["timeout"] + total["survived"] + total["untested"]
    return [
        f"| mutation run: {len(f['modules'])} rule modules ({f['tool']}), each against its own tests | `{COMMAND}` | "
        f"{share(total['share'])} of {judged:,} mutants killed ({total['equivalent']} more listed as equivalent, "
        f"target {share(total['target'])}) in {fixed(total['seconds'])} s |"
    ]
