"""The whole test suite at one revision: wall time, CPU, counts and coverage, for the README's table.

Checks REV out into a temporary git worktree (removed afterwards), runs pytest there with this
interpreter and the environment the CI script gives it (browser tests required when Chromium is
installed), and records the run in bench/results/suite.json under its label (a later run of the same
label replaces it), from which bench.report rewrites the README's table. Measure on a quiet machine:
the JSON keeps the load average before and after, so a busy run shows as one.

    python -m bench.quality.suite [--rev REV] [--label NAME] [--workers N|auto|0] [--coverage]
                                  [-k EXPR] [--database-url URL]
"""

import argparse
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import REPO, RESULTS
from bench import report as readme
from bench.harness.processes import step

OUT = RESULTS / "suite.json"
CHROMIUM = Path("/usr/bin/chromium")
# pytest's last line: "3 failed, 1,200 passed, 2 skipped in 262.31s (0:04:22)", framed by "=" unless -q.
SUMMARY = re.compile(r"^=*\s*(?P<counts>.+?) in [\d.]+s(?: \([\d:]+\))?\s*=*$")
COUNT = re.compile(r"^(\d+) (\w+)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# pytest writes "1 error" and "2 errors"; one key per outcome, whatever the number.
SINGULAR = {"error": "errors", "warning": "warnings"}


def summary(output: str) -> tuple[str, dict[str, int]]:
    """pytest's last summary line and its counts by outcome (passed, failed, skipped, errors, xfailed,
    xpassed, deselected, warnings); "no tests ran" has none. An output without one is an error."""
    for line in reversed(ANSI.sub("", output).splitlines()):
        if not (match := SUMMARY.match(line.strip())):
            continue
        if match["counts"] == "no tests ran":
            return line.strip(), {}
        parts = [COUNT.match(part) for part in match["counts"].split(", ")]
        if all(parts):
            return line.strip(), {SINGULAR.get(m[2], m[2]): int(m[1]) for m in parts if m}
    raise ValueError("no pytest summary line in the output")


def read_coverage(path: Path) -> float:
    """The share of lines (and branches, when measured) covered, from coverage's JSON report."""
    return float(json.loads(path.read_text())["totals"]["percent_covered"])


def workers(value: str) -> str:
    if value == "auto" or (value.isdigit() and value == str(int(value))):
        return value
    raise argparse.ArgumentTypeError(f"{value!r}: a number of workers (0: none, in this process) or auto")


def database_url(value: str) -> str:
    dialect(value)
    return value


def dialect(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise argparse.ArgumentTypeError(f"{url!r} is not a database URL") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.quality.suite", description=__doc__.splitlines()[0])
    p.add_argument("--rev", default="HEAD", help="the revision to test (default HEAD)")
    p.add_argument("--label", help="the run's name in the table (default: the revision's short hash)")
    p.add_argument("--workers", type=workers, default="auto", help="pytest-xdist workers; 0 for none")
    p.add_argument("--coverage", action="store_true", help="measure coverage of directory/ too")
    p.add_argument("-k", dest="select", metavar="EXPR", help="only the tests pytest's -k selects")
    p.add_argument(
        "--database-url", type=database_url, help="run on this database (DIRECTORY_TEST_DATABASE_URL)"
    )
    return p


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607 (git from PATH, as a developer runs it)
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def revision(rev: str) -> dict:
    try:
        full = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{rev!r} is not a revision of this repository") from None
    short, subject = git("log", "-1", "--format=%h%x00%s", full).split("\0", 1)
    return {"asked": rev, "commit": full, "short": short, "subject": subject}


def pytest_args(args: argparse.Namespace, coverage_json: Path) -> list[str]:
    argv = ["-m", "pytest", "-p", "no:cacheprovider", "-q"]
    if args.workers != "0":
        # An old revision may not configure pytest-xdist; the plugin is installed here all the same.
        argv += ["-n", args.workers, "--dist", "loadfile"]
    if args.coverage:
        argv += ["--cov=directory", f"--cov-report=json:{coverage_json}"]
    if args.select:
        argv += ["-k", args.select]
    return argv


def environment(tree: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIRECTORY_TEST_DATABASE_URL", "PYTEST_ADDOPTS")}
    # Every process the tests start imports the checked-out revision, not the installed one.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    if CHROMIUM.exists():
        env["DIRECTORY_REQUIRE_BROWSER"] = "1"  # as CI: browser tests must run, not skip
    if database_url:
        env["DIRECTORY_TEST_DATABASE_URL"] = database_url
    return env


def run_pytest(argv: list[str], tree: Path, env: dict[str, str]) -> dict:
    """Runs the suite, echoing its output to stderr; wall, children's CPU and load around it."""
    load_before, usage_before = os.getloadavg(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(  # noqa: S603
        [sys.executable, *argv],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        lines = []
        for line in child.stdout:
            sys.stderr.write(line)
            lines.append(line)
    wall = time.perf_counter() - started
    usage, load_after = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()
    user, system = usage.ru_utime - usage_before.ru_utime, usage.ru_stime - usage_before.ru_stime
    return {
        "exit_code": child.returncode,
        "output": "".join(lines),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(user + system, 2),
        "cpu_user_seconds": round(user, 2),
        "cpu_system_seconds": round(system, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }


def command(args: argparse.Namespace, short: str) -> str:
    """The bench's own command for this row, with the revision pinned and no database credentials."""
    words = ["python", "-m", "bench.quality.suite", "--rev", short, "--workers", args.workers]
    words += ["--label", args.label] if args.label else []
    words += ["--coverage"] if args.coverage else []
    words += ["-k", args.select] if args.select else []
    return shlex.join(words) + (" --database-url <scratch database>" if args.database_url else "")


def record(runs: list[dict], run: dict) -> list[dict]:
    """`runs` with `run` in place of the earlier run of its label, or after the others."""
    labels = [r["label"] for r in runs]
    if run["label"] in labels:
        return [run if r["label"] == run["label"] else r for r in runs]
    return [*runs, run]


def measure(args: argparse.Namespace) -> tuple[dict, int]:
    rev = revision(args.rev)
    database = dialect(args.database_url) if args.database_url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as work:
        tree, coverage_json = Path(work) / "tree", Path(work) / "coverage.json"
        git("worktree", "add", "--detach", "--quiet", str(tree), rev["commit"])
        try:
            argv = pytest_args(args, coverage_json)
            step(f"pytest at {rev['short']} ({rev['subject']}) on {database}: {shlex.join(argv)}")
            ran = run_pytest(argv, tree, environment(tree, args.database_url))
            coverage = None
            if args.coverage and coverage_json.exists():
                coverage = read_coverage(coverage_json)
            elif args.coverage:
                step("pytest wrote no coverage report: coverage not recorded")
        finally:
            git("worktree", "remove", "--force", str(tree))
    try:
        line, counts = summary(ran.pop("output"))
    except ValueError as error:
        raise SystemExit(f"{error} (pytest exited {ran['exit_code']}): nothing recorded") from None
    run = {
        "label": args.label or rev["short"],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": rev,
        "database": database,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "browser_required": CHROMIUM.exists(),
        "counts": counts,
        "summary": line,
        "coverage_percent": coverage,
        **ran,
        "pytest": shlex.join(["python", *argv]).replace(str(coverage_json), "<tmp>/coverage.json"),
        "command": command(args, rev["short"]),
    }
    return run, ran["exit_code"]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run, exit_code = measure(args)
    runs = json.loads(OUT.read_text()) if OUT.exists() else []
    RESULTS.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(record(runs, run), indent=2) + "\n")
    print(
        f"{run['label']}: {run['summary']}; wall {run['wall_seconds']:.1f} s, CPU {run['cpu_seconds']:.1f} s, "
        f"coverage {run['coverage_percent'] if run['coverage_percent'] is not None else 'not measured'}"
    )
    readme.write()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
