"""The test-suite bench (bench.quality.suite) and its README table: what it reads from pytest and
coverage, what it runs, and what the table says. The whole suite is never run from here."""

import json
import textwrap

import pytest

from bench import README, RESULTS
from bench.quality import suite
from bench.report import markers
from bench.report import suite as table


@pytest.mark.parametrize(
    ("line", "counts"),
    [
        ("5 passed in 0.12s", {"passed": 5}),
        (
            "1 failed, 1 passed, 1 skipped, 3 deselected in 0.19s",
            {"failed": 1, "passed": 1, "skipped": 1, "deselected": 3},
        ),
        ("1 passed, 4 deselected, 1 error in 0.29s", {"passed": 1, "deselected": 4, "errors": 1}),
        ("2 errors in 0.60s", {"errors": 2}),
        (
            "1 passed, 3 deselected, 1 xfailed, 1 xpassed in 0.18s",
            {"passed": 1, "deselected": 3, "xfailed": 1, "xpassed": 1},
        ),
        ("1 passed, 1 warning in 0.08s", {"passed": 1, "warnings": 1}),
        ("2143 passed, 8 skipped in 262.31s (0:04:22)", {"passed": 2143, "skipped": 8}),
        ("==== 1 failed, 1 passed, 1 xfailed in 0.31s =====", {"failed": 1, "passed": 1, "xfailed": 1}),
        ("\x1b[32m\x1b[1m3 passed\x1b[0m\x1b[32m in 0.05s\x1b[0m", {"passed": 3}),
        ("no tests ran in 0.10s", {}),
    ],
    ids=[
        "passed",
        "failed passed skipped",
        "error",
        "errors only",
        "xfailed",
        "warning",
        "over a minute",
        "framed",
        "coloured",
        "no tests ran",
    ],
)
def test_the_summary_line_gives_each_outcome_its_count(line, counts):
    output = f"...F.s\n=== short test summary info ===\nFAILED tests/test_a.py::test_f - assert 1\n{line}\n"

    assert suite.summary(output)[1] == counts


def test_the_last_summary_line_is_the_one_read():
    output = "1 passed in 0.01s\nlater output\n3 failed, 2 passed in 9.10s\n"

    assert suite.summary(output) == ("3 failed, 2 passed in 9.10s", {"failed": 3, "passed": 2})


@pytest.mark.parametrize(
    "output",
    [
        "",
        "!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!\n",
        "ERROR: usage: python -m pytest [options] [file_or_dir]\n",
        "SKIPPED [1] tests/test_a.py:4: passed in 0.1s reason\n",
    ],
    ids=["empty", "interrupted only", "usage error", "a reason that looks like one"],
)
def test_an_output_without_a_summary_line_is_refused(output):
    with pytest.raises(ValueError, match="no pytest summary line"):
        suite.summary(output)


def test_coverage_is_read_from_the_totals_of_its_json_report(tmp_path):
    path = tmp_path / "coverage.json"
    path.write_text(
        json.dumps({"meta": {}, "files": {}, "totals": {"percent_covered": 91.2345, "num_statements": 9}})
    )

    assert suite.read_coverage(path) == pytest.approx(91.2345)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "-1"], "number of workers"),
        (["--workers", "two"], "number of workers"),
        (["--workers", "1.5"], "number of workers"),
        (["--workers", ""], "number of workers"),
        (["--workers", "auto2"], "number of workers"),
        (["--database-url", "not a url"], "not a database URL"),
        (["--database-url", ""], "not a database URL"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(argv, message, capsys):
    with pytest.raises(SystemExit):
        suite.parser().parse_args(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected", "absent"),
    [
        ([], ["-n", "auto", "--dist", "loadfile"], ["--cov=directory"]),
        (["--workers", "0"], ["-q"], ["-n", "--dist"]),
        (
            ["--workers", "3", "--coverage", "-k", "test_docs"],
            ["-n", "3", "--cov=directory", "-k", "test_docs"],
            [],
        ),
    ],
)
def test_the_pytest_command_follows_the_options(argv, expected, absent, tmp_path):
    args = suite.parser().parse_args(argv)
    command = suite.pytest_args(args, tmp_path / "c.json")

    assert command[:5] == ["-m", "pytest", "-p", "no:cacheprovider", "-q"]
    assert all(word in command for word in expected)
    assert not any(word in command for word in absent)
    assert (f"--cov-report=json:{tmp_path / 'c.json'}" in command) == ("--coverage" in argv)


def test_the_recorded_command_pins_the_revision_and_keeps_no_database_credentials():
    args = suite.parser().parse_args(
        ["--label", "after pg", "--database-url", "postgresql+psycopg://postgres:secret@127.0.0.1/test"]
    )

    written = suite.command(args, "abc1234")

    assert written == (
        "python -m bench.quality.suite --rev abc1234 --workers auto --label 'after pg' "
        "--database-url <scratch database>"
    )


def test_the_run_gets_the_checkout_first_on_its_path_and_only_the_database_asked_for(monkeypatch, tmp_path):
    monkeypatch.setenv("DIRECTORY_TEST_DATABASE_URL", "postgresql://someone/else")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")

    env = suite.environment(tmp_path, None)
    given = suite.environment(tmp_path, "postgresql+psycopg://postgres@127.0.0.1/test_x")

    assert "DIRECTORY_TEST_DATABASE_URL" not in env
    assert env["PYTHONPATH"].split(":") == [str(tmp_path), "/elsewhere"]
    assert given["DIRECTORY_TEST_DATABASE_URL"] == "postgresql+psycopg://postgres@127.0.0.1/test_x"
    assert ("DIRECTORY_REQUIRE_BROWSER" in env) == suite.CHROMIUM.exists()


def test_a_run_is_timed_and_counted_in_its_own_folder(tmp_path):
    (tmp_path / "test_tiny.py").write_text(
        textwrap.dedent(
            """
            import pytest
            def test_passes(): sum(range(200_000))
            def test_fails(): assert False
            @pytest.mark.skip(reason="shown as skipped")
            def test_skipped(): pass
            """
        )
    )
    args = suite.parser().parse_args(["--workers", "0"])

    ran = suite.run_pytest(
        suite.pytest_args(args, tmp_path / "c.json"), tmp_path, suite.environment(tmp_path, None)
    )

    assert ran["exit_code"] == 1
    assert suite.summary(ran["output"])[1] == {"failed": 1, "passed": 1, "skipped": 1}
    assert ran["wall_seconds"] > 0 and ran["cpu_seconds"] > 0
    assert ran["cpu_seconds"] == pytest.approx(ran["cpu_user_seconds"] + ran["cpu_system_seconds"], abs=0.02)
    assert len(ran["load_average_before"]) == len(ran["load_average_after"]) == 3


def _run(label: str, **changes) -> dict:
    run = {
        "label": label,
        "date": "2026-12-02T07:00:00+00:00",
        "revision": {
            "asked": "main",
            "commit": "f" * 40,
            "short": "fffffff",
            "subject": "Tests: one kit | one clock",
        },
        "database": "sqlite",
        "workers": "auto",
        "cpus": 2,
        "browser_required": True,
        "counts": {"passed": 2143, "failed": 0, "skipped": 0},
        "summary": "2143 passed in 101.50s (0:01:41)",
        "coverage_percent": 93.46,
        "exit_code": 0,
        "wall_seconds": 109.5,
        "cpu_seconds": 201.24,
        "cpu_user_seconds": 190.0,
        "cpu_system_seconds": 11.24,
        "load_average_before": [0.42, 0.3, 0.2],
        "load_average_after": [2.16, 1.1, 0.5],
        "pytest": "python -m pytest -p no:cacheprovider -q -n auto --dist loadfile",
        "command": "python -m bench.quality.suite --rev fffffff --workers auto --label after --coverage",
    }
    return {**run, **changes}


def test_the_table_has_a_row_per_run_with_its_figures(tmp_path):
    runs = [
        _run(
            "before",
            workers="0",
            coverage_percent=None,
            wall_seconds=259.6,
            counts={"passed": 2100, "failed": 2, "skipped": 1, "errors": 1},
        ),
        _run("after"),
    ]
    (tmp_path / "suite.json").write_text(json.dumps(runs))

    lines = table.table(tmp_path).splitlines()

    assert lines[0].startswith(
        "| label | revision | database | workers | tests passed / failed / skipped | wall |"
    )
    assert lines[2] == (
        "| before | `fffffff` Tests: one kit \\| one clock | sqlite | none (one process) | 2,100 / 2 / 1 (errors: 1) "
        "| **260 s** (4:20) | 201 s | not measured | 0.4 → 2.2 "
        "| `python -m bench.quality.suite --rev fffffff --workers auto --label after --coverage` |"
    )
    assert "| auto (2 CPUs) | 2,143 / 0 / 0 | **110 s** (1:50) | 201 s | 93.5% | 0.4 → 2.2 |" in lines[3]
    assert len(lines) == 4


@pytest.mark.parametrize("content", [None, "[]"], ids=["no file", "no runs"])
def test_no_run_recorded_says_so(tmp_path, content):
    if content is not None:
        (tmp_path / "suite.json").write_text(content)

    assert table.table(tmp_path) == "_No run of the test suite is recorded yet (bench/results/suite.json)._"


def test_a_label_run_again_replaces_its_row_in_place_and_a_new_label_is_added_last():
    runs = [_run("before"), _run("after")]

    again = suite.record(runs, _run("before", wall_seconds=1.0))
    added = suite.record(runs, _run("postgresql"))

    assert [(r["label"], r["wall_seconds"]) for r in again] == [("before", 1.0), ("after", 109.5)]
    assert [r["label"] for r in added] == ["before", "after", "postgresql"]


def test_the_readme_section_is_what_the_report_writes():
    start, end = markers("suite")
    section = README.read_text().split(start, 1)[1].split(end, 1)[0]

    assert section.strip() == table.table(RESULTS)
