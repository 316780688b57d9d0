"""The READMEs' generated figures: what `python -m bench.report` writes from bench/results/*.json.

A figure edited by hand in a generated part, or a JSON file changed without the README following,
fails here; so does a marker lost, which would otherwise freeze its figures silently.
"""

import json
import shutil
from pathlib import Path

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


def test_a_search_run_whose_http_pass_failed_says_so(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    path = results / "search-100000.json"
    figures = json.loads(path.read_text())
    figures["systems"]["engine HTTP"] = {"status": "error", "detail": "RemoteDisconnected: closed"}
    path.write_text(json.dumps(figures))
    readme = next(iter(FILES))
    after = render(readme.read_text(), FILES[readme], results)
    assert "HTTP not measured (RemoteDisconnected: closed)" in after


def test_each_search_run_says_how_busy_the_machine_was(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results)
    path = results / "search-100000.json"
    figures = json.loads(path.read_text())
    path.write_text(json.dumps({**figures, "cpu_busy_elsewhere": {"before": 0.37, "after": 0.04}}))
    readme = next(iter(FILES))
    after = render(readme.read_text(), FILES[readme], results)
    assert "`bench/results/search-100000.json`" in after
    assert "CPUs busy elsewhere 37% before and 4% after timing):" in after
    figures.pop("cpu_busy_elsewhere")
    path.write_text(json.dumps(figures))
    older = render(readme.read_text(), FILES[readme], results)
    line = next(x for x in older.splitlines() if "`bench/results/search-100000.json`" in x)
    assert "busy" not in line


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


def mutation_results(tmp_path) -> Path:
    results = tmp_path / "results"
    results.mkdir()
    module = {
        "rule": "what a status means on a day",
        "mutants": 120,
        "killed": 100,
        "timeout": 2,
        "survived": 8,
        "untested": 4,
        "equivalent": 6,
        "not_judged": 0,
        "share": 0.895,
        "seconds": 266.64,
        "complete": True,
    }
    stopped = {
        **module,
        "rule": "throttling",
        "not_judged": 40,
        "complete": False,
        "share": 0.5,
        "seconds": 10,
    }
    figures = {
        "tool": "mutmut 3.8.1",
        "modules": {"standing": module, "throttle": stopped},
        "overall": {
            "mutants": 240,
            "killed": 200,
            "timeout": 4,
            "survived": 16,
            "untested": 8,
            "equivalent": 12,
            "share": 0.895,
            "seconds": 276.6,
            "target": 0.9,
        },
    }
    (results / "mutation.json").write_text(json.dumps(figures))
    return results


def test_the_mutation_table_gives_each_module_and_the_whole_run(tmp_path):
    lines = report.mutation.table(mutation_results(tmp_path)).splitlines()

    assert "| standing | what a status means on a day | 120 | 100 | 2 | 8 | 4 | 6 | 89.5% | 267 s |" in lines
    (throttle,) = [line for line in lines if line.startswith("| throttle |")]
    assert "50.0% (stopped: 40 not reached)" in throttle  # never shown as if it had finished
    assert "| **all** | | 240 | 200 | 4 | 16 | 8 | 12 | **89.5%** | 277 s |" in lines
    assert lines[-1] == "_Stopped before the end: throttle._"


def test_the_measured_table_carries_the_mutation_runs_share_and_command(tmp_path):
    table = report.measured.table(mutation_results(tmp_path))

    (line,) = [line for line in table.splitlines() if line.startswith("| mutation run")]
    assert "`python -m bench.quality.mutation`" in line
    assert "89.5% of 228 mutants killed (12 more listed as equivalent, target 90.0%) in 277 s" in line


def test_no_mutation_results_say_so(tmp_path):
    assert report.mutation.table(tmp_path) == "_Not measured yet: no bench/results/mutation.json._"
