"""The README's figures, written from bench/results/*.json and never typed by hand.

Each generated part of a README sits between `<!-- bench.report: NAME -->` and
`<!-- bench.report: NAME end -->`; `python -m bench.report` rewrites every such part from the JSON files
the benches left, and every bench calls `write()` after writing its own JSON. A section is a function of
the results folder alone, so the same files always give the same text (which a test holds the READMEs to).
"""

from collections.abc import Callable
from pathlib import Path

from bench import README, REPO, RESULTS
from bench.report import faults, load, measured, mutation, search, suite

Section = Callable[[Path], str]

# Which file holds which sections. A section whose JSON files are all missing renders as a line saying so.
FILES: dict[Path, dict[str, Section]] = {
    README: {
        "hostile": search.hostile,
        "roster": load.roster,
        "reset_timing": load.reset_timing,
        "measured": measured.table,
        "suite": suite.table,
        "mutation": mutation.table,
        "search_speed": search.speed,
    },
    REPO / "bench" / "README.md": {"crash": faults.crash},
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench.report: {name} -->", f"<!-- bench.report: {name} end -->"


def render(text: str, sections: dict[str, Section], results: Path = RESULTS) -> str:
    """`text` with each section's part rewritten; a section whose markers are missing is an error, so a
    marker deleted by hand cannot quietly freeze its figures."""
    for name, section in sections.items():
        start, end = markers(name)
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
            raise ValueError(f"expected one {start} and after it one {end}")
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = f"{before}{start}\n{section(results).strip()}\n{end}{after}"
    return text


Files = dict[Path, dict[str, Section]]


def stale(results: Path = RESULTS, files: Files = FILES) -> list[Path]:
    """The files whose generated parts differ from what the results say now."""
    return [
        path
        for path, sections in files.items()
        if render(path.read_text(), sections, results) != path.read_text()
    ]


def write(results: Path = RESULTS, files: Files = FILES) -> list[Path]:
    """Rewrite every generated part; returns the files that changed."""
    changed = stale(results, files)
    for path in changed:
        path.write_text(render(path.read_text(), files[path], results))
    return changed
