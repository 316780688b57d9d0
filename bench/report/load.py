"""The roster-import and password-reset tables (bench.load.roster, bench.load.reset_timing)."""

from pathlib import Path

from bench.report.files import every, missing


def roster(results: Path) -> str:
    rows = []
    for f in every(results, "roster-*.json"):
        reference = f"{f['reference_seconds']:.1f} s" if f.get("reference_seconds") else "not run"
        rows.append(
            f"| {f['database']} | {f['rows']:,} rows: {f['verified']:,} verified, {f['confirmed']:,} confirmed, "
            f"{f['lapsed']:,} lapsed | {f['via']} | **{f['import_seconds']:.1f} s** | {reference} | "
            f"{f['load_average_before'][0]:.1f} → {f['load_average_after'][0]:.1f} | `{f['command']}` |"
        )
    if not rows:
        return missing("roster-*.json")
    head = (
        "| database | roster | through | import (wall, batch path) | reference: one credential at a time | "
        "load average | command |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    return "\n".join([head, *rows])


def reset_timing(results: Path) -> str:
    rows = []
    for f in every(results, "reset-timing*.json"):
        for kind in ("known", "unknown"):
            s = f[kind]
            rows.append(
                f"| {f['database']} | {kind} | {f['tries']} | {s['min_ms']:.2f} | {s['p10_ms']:.2f} | "
                f"**{s['median_ms']:.2f}** | {s['p90_ms']:.2f} | {s['max_ms']:.2f} | `{f['command']}` |"
            )
    if not rows:
        return missing("reset-timing*.json")
    head = (
        "| database | address | tries | min ms | p10 ms | median ms | p90 ms | max ms | command |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    return "\n".join([head, *rows])
