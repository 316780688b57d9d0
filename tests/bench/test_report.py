"""The READMEs' generated figures: what `python -m bench.report` writes from bench/results/*.json.

A figure edited by hand in a generated part, or a JSON file changed without the README following,
fails here; so does a marker lost, which would otherwise freeze its figures silently.
"""

import json
import shutil

import pytest

from bench import RESULTS, report
from bench.report import FILES, markers, render, stale, write
from bench.report.__main__ import main
from bench.report.numbers import fixed, ms


@pytest.mark.parametrize(
    "path", list(FILES), ids=lambda p: p.name if p.parent.name != "bench" else "bench/README.md"
)
def test_each_readme_holds_what_the_results_say_now(path):
    text = path.read_text()
    assert render(text, FILES[path]) == text, "run `python -m bench.report` (never edit its tables by hand)"


def test_a_hand_edited_figure_is_put_back(tmp_path):
    readme = tmp_path / "README.md"
    original = next(iter(FILES)).read_text()
    start, end = markers("roster")
    head, rest = original.split(start, 1)
    section, tail = rest.split(end, 1)
    assert "**12.0 s**" in section  # the SQLite roster import, bench/results/roster-25000.json
    readme.write_text(head + start + section.replace("**12.0 s**", "**9.0 s**") + end + tail)
    files = {readme: FILES[next(iter(FILES))]}

    assert stale(files=files) == [readme]
    assert write(files=files) == [readme]
    assert readme.read_text() == original
    assert stale(files=files) == []


def test_a_new_result_changes_its_figure_and_no_other(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    path = results / "roster-25000.json"
    figures = json.loads(path.read_text())
    path.write_text(json.dumps({**figures, "import_seconds": 99.04}))
    readme = next(iter(FILES))
    before, after = readme.read_text(), render(readme.read_text(), FILES[readme], results)

    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(changed) == 1
    assert "| sqlite |" in changed[0] and "**99.0 s**" in changed[0]


def test_a_result_not_there_says_so_rather_than_keep_old_figures(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    (results / "fuzz.json").unlink()

    table = report.measured.table(results)

    assert "contract fuzzing" not in table
    assert "Not measured yet: no bench/results/fuzz.json" in table
    assert "replica lag" in table  # the other runs still shown


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all",
        "<!-- bench.report: roster -->\nonly the start",
        "only the end\n<!-- bench.report: roster end -->",
        "<!-- bench.report: roster end -->\nend before start\n<!-- bench.report: roster -->",
        "<!-- bench.report: roster -->\n<!-- bench.report: roster end -->\n<!-- bench.report: roster -->\ntwice",
    ],
    ids=["none", "start only", "end only", "reversed", "start twice"],
)
def test_markers_that_do_not_bracket_one_section_are_refused(text):
    with pytest.raises(ValueError, match="bench.report: roster"):
        render(text, {"roster": report.load.roster})


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (66.5, 0, "67"),
        (339.5, 0, "340"),
        (12.45, 1, "12.5"),
        (1880.5, 0, "1,881"),
        (3522 / 1000, 1, "3.5"),
        (0.0, 0, "0"),
    ],
)
def test_figures_round_half_up_with_thousands_separators(value, places, written):
    assert fixed(value, places) == written


@pytest.mark.parametrize(
    ("value", "written"), [(0.105, "0.10"), (0.999, "1.00"), (1.0, "1.0"), (101.038, "101.0")]
)
def test_search_timings_keep_two_decimals_under_a_millisecond(value, written):
    assert ms(value) == written


def test_the_check_command_passes_on_current_readmes():
    assert main(["--check"]) == 0
