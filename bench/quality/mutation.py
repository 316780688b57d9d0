"""Mutation run over the rule modules: how many small changes to a rule its own tests notice.

    python -m bench.quality.mutation [--module NAME] [--max-minutes M] [--keep DIR] [--diffs] [--recount]

Each module is mutated with mutmut against its own tests only, so a whole run fits an hour on a
2-core machine. The tree is copied to a scratch folder first (the working tree is never touched) and
mutmut runs there with no network at all (a fresh network namespace where the system allows one; the
tests it runs need none: SQLite in a temporary folder, no map tiles, no geocoder). Results go to
bench/results/mutation.json, merged with what earlier runs of other modules left there, and a table is
printed.

`share` is the part of the mutants that can be told apart from the original that the tests kill:
(killed + timeout) / (killed + timeout + survived + untested), a timeout counting as caught (the change
made the code hang, which a user would notice) and a mutant in code none of the module's tests runs
("untested") counting as missed. Mutants a stopped run never reached are left out and the module is
marked "stopped". Mutants listed in EQUIVALENT behave exactly as the original (a
default argument no caller omits, a loop bound that cannot be reached): each says why.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "mutation.json"
TARGET_SHARE = 0.90
# The tests wait on SQLite files part of the time, so a third child keeps the two cores busier;
# at niceness 10 the children take what other work leaves.
CHILDREN = 3
NICENESS = 10
# The test kit starts each session from this file when it is set (tests/conftest.py).
MIGRATED_VARIABLE = "DIRECTORY_TEST_MIGRATED_SQLITE"
# What the copy needs besides the package and the tests (create_app finds templates and migrations
# beside the package in a checkout; some tests drive the benches).
ALSO_COPY = ["templates/", "migrations/", "setup.py", "wsgi.py", "bench/"]
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "mutants", "instance", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "results"
)


@dataclass(frozen=True, eq=False)
class Target:
    files: tuple[str, ...]
    tests: tuple[str, ...]
    # Mutant name patterns (module.function) when only part of a file holds the rule.
    functions: tuple[str, ...] = ()
    why: str = ""
    # (file, function) → why it is not part of the rule: left unmutated in the copy.
    skip: dict[tuple[str, str], str] = field(default_factory=dict)


# The rules where people see them: each module takes the places that read it.
SHOWN = "tests/credentials/test_badge_rules_shown.py"
MODULES = {
    "lifecycle": Target(
        files=("directory/credentials/lifecycle.py",),
        tests=(
            "tests/credentials/test_lifecycle.py",
            # The batch path's rules directly; the roster import's tests drive it too, but through the
            # whole import for every mutant of transition() as well, several times slower.
            "tests/credentials/test_lifecycle_batch.py",
            "tests/credentials/test_audit.py",
            # Which techniques a verification confirms (the decision form's facts).
            "tests/credentials/test_source_facts.py::test_only_the_techniques_an_admin_ticked_are_verified",
            # history_rows against the chain transition writes (the demo generator's tests reach it
            # too, slower and less closely).
            "tests/credentials/test_one_chain.py",
        ),
        why="the one way a status changes, one by one and in batches",
    ),
    "standing": Target(
        files=("directory/credentials/standing.py",),
        tests=(
            "tests/credentials/test_rechecks.py",
            "tests/credentials/test_standing_rules.py",
            # The *_sql twins of the rules, held to the same answers.
            "tests/credentials/test_rules_in_sql.py",
            f"{SHOWN}::test_the_profile_json",
            f"{SHOWN}::test_the_online_check_of_yesterdays_record",
        ),
        why="what a status means on a day: expiry, re-check grace, labels",
    ),
    "badges": Target(
        files=("directory/search/badges.py",),
        tests=(
            "tests/search/test_cards.py",
            f"{SHOWN}::test_the_search_cards_json",
            f"{SHOWN}::test_the_search_cards_page",
        ),
        why="the badges on search cards",
    ),
    "ranking": Target(
        files=("directory/search/engine.py",),
        tests=("tests/search/test_ranking.py", "tests/search/test_bm25.py"),
        functions=(
            "directory.search.engine.x__relevance*",
            "directory.search.engine.x__text*",
            "directory.search.engine.x__order_keys*",
            "directory.search.engine.x__page*",
        ),
        why="the scoring part of the search engine: text score, coverage, distance, ties, paging",
    ),
    "roster": Target(
        files=(
            "directory/credentials/roster.py",
            "directory/credentials/names.py",
            "directory/credentials/numbers.py",
        ),
        tests=(
            "tests/credentials/test_roster.py",
            "tests/credentials/test_roster_import.py",
            "tests/credentials/test_numbers.py",
        ),
        why="roster matching: canonical numbers, legal names, what a roster line does",
        skip={
            ("directory/credentials/roster.py", "default_admin"): "which admin the import command acts as "
            "(named or the only one) is the command line's choice, not how a roster line is matched",
            ("directory/credentials/numbers.py", "canonical_or_none"): "called from nowhere in the project",
        },
    ),
    "throttle": Target(
        files=("directory/accounts/throttle.py",),
        tests=("tests/accounts/test_throttle_rules.py", "tests/accounts/test_throttle.py"),
        why="throttling of password and code guesses",
    ),
    "grants": Target(
        files=("directory/accounts/grants.py",),
        tests=("tests/accounts/test_sessions.py", "tests/accounts/test_grant_rules.py"),
        why="sessions and tokens: idle and absolute ends, freshness, ending them",
    ),
}

# mutant name → why it cannot be told apart from the original by any caller.
EQUIVALENT: dict[str, str] = {
    "directory.accounts.grants.x_issue__mutmut_3": "token_urlsafe(None) is token_urlsafe(32), its default",
    "directory.accounts.grants.x_issue__mutmut_4": "a secret of 33 random bytes instead of 32: nobody can tell",
    # The query's typed columns hand dates back as dates on SQLite and PostgreSQL: the text branch is
    # never taken, whatever it does.
    "directory.search.badges.x__day__mutmut_1": "the text branch of _day is never taken",
    "directory.search.badges.x__day__mutmut_3": "the text branch of _day is never taken",
    # for_practitioners' today is today_utc(), which is what the standing rules read when given None.
    **dict.fromkeys(
        (f"directory.search.badges.x_for_practitioners__mutmut_{n}" for n in (20, 42, 44, 57, 59)),
        "today is today_utc(), the rules' own default",
    ),
    # Throttle.
    "directory.accounts.throttle.x__count__mutmut_12": "count(None) is count(*): ids are never null",
    "directory.accounts.throttle.x__alert_if_closed__mutmut_13": "count(None) is count(*): ids are never null",
    "directory.accounts.throttle.x__wait__mutmut_6": "with the free counts set (3, 20, 20, 5: none is 0) "
    "a delay needs a failure, so latest is never None with a delay",
    "directory.accounts.throttle.x_password_wait__mutmut_12": "a known browser's nonce is made for one "
    "account: no other account's failures carry it",
    # Lifecycle's one move: the UPDATE of the confirmed techniques flushes every pending change first,
    # so expiring all of the credential's attributes only reloads the same values.
    **dict.fromkeys(
        (f"directory.credentials.lifecycle.x__apply_facts__mutmut_{n}" for n in (18, 20)),
        "the UPDATE before it flushed every change: expiring all attributes reloads the same values",
    ),
    # Lifecycle's batch path.
    **dict.fromkeys(
        (f"directory.credentials.lifecycle.x_transition_batch__mutmut_{n}" for n in (58, 60, 61)),
        "every claim has its evidence (submitting needs a file): the default for none is never used",
    ),
    **dict.fromkeys(
        (f"directory.credentials.lifecycle.x_transition_batch__mutmut_{n}" for n in (91, 93)),
        "an untyped parameter binds a date as the Date type does, on both drivers",
    ),
    "directory.credentials.lifecycle.x_transition_batch__mutmut_101": "every status change moves the "
    "version too (the model's counter, the batch's +1): the version condition refuses it already",
    "directory.credentials.lifecycle.x_transition_batch__mutmut_118": "versions only have to grow: +2 "
    "refuses the same stale readers as +1",
    **dict.fromkeys(
        (f"directory.credentials.lifecycle.x__latest_evidence__mutmut_{n}" for n in (3, 5)),
        "ordered by version alone, each credential's versions still come in order and the last one wins",
    ),
    # Not equivalent in principle: without the version order, a credential's evidence rows come back in
    # the order they were written on both engines as used here, so no test can make an older one win.
    **dict.fromkeys(
        (f"directory.credentials.lifecycle.x__latest_evidence__mutmut_{n}" for n in (4, 6)),
        "rows of one credential come back in the order written (versions ascending) on both engines",
    ),
    # Roster: _plan's today is today_utc(), which is what the standing rules read when given None.
    "directory.credentials.roster.x__judge__mutmut_21": "today is today_utc(), the rules' own default",
    "directory.credentials.roster.x__live__mutmut_2": "today is today_utc(), the rules' own default",
    "directory.credentials.roster.x__live__mutmut_4": "today is today_utc(), the rules' own default",
    # _judge sets an admin's own credential aside before any judgement move (verify, confirm), and the
    # moves it lets through for it (lapse, recheck) are not judgements: the batch's own guard never sees it.
    "directory.credentials.roster.x__move__mutmut_6": "the holder is checked by _judge before any judgement",
    "directory.credentials.roster.x__plan__mutmut_51": "today is today_utc(), the rules' own default",
    "directory.credentials.roster.x__plan__mutmut_71": "facts=None is _move's own default",
    # A credential has one foreign key to a practitioner: a join without its condition infers that one.
    **dict.fromkeys(
        (f"directory.credentials.roster.x__holdings__mutmut_{n}" for n in (11, 13)),
        "the join's condition is the one foreign key SQLAlchemy infers",
    ),
    # The holding row carries `method` to be a whole standing.Dated, but is_live (the roster's only
    # standing rule) never reads it, nor does the roster.
    **dict.fromkeys(
        (f"directory.credentials.roster.x__holdings__mutmut_{n}" for n in (23, 36)),
        "no roster rule reads a holding's method (is_live does not)",
    ),
    "directory.credentials.names.x_names_match__mutmut_11": "of two word sets of one size, either is the smaller",
    # The engine's arrays: NumPy's default types are int64 and float64, which hold the same values.
    "directory.search.engine.x__text__mutmut_5": "np.full(n, -1) is int64 already",
    "directory.search.engine.x__text__mutmut_10": "-2 marks a document outside the candidates as -1 does (< 0)",
    "directory.search.engine.x__text__mutmut_15": "float64 text scores: _relevance works in float64",
    "directory.search.engine.x__text__mutmut_17": "float64 text scores: _relevance works in float64",
    "directory.search.engine.x__text__mutmut_30": "a float64 count of words equals len(stems) as an int16 does",
    "directory.search.engine.x__text__mutmut_35": "a float64 phrase score is added into the float32 sum",
    "directory.search.engine.x__text__mutmut_37": "a float64 phrase score is added into the float32 sum",
    "directory.search.engine.x__text__mutmut_52": "cmask is all False just before: |= and = give tmask",
    "directory.search.engine.x__relevance__mutmut_3": "np.zeros is float64 already",
    "directory.search.engine.x__relevance__mutmut_5": "np.zeros is float64 already",
    "directory.search.engine.x__relevance__mutmut_8": "astype(None) is astype(float64)",
    "directory.search.engine.x__relevance__mutmut_13": "parts is all zeros just before: += and = agree",
    # Every kept document matched a concept and every match adds a positive score, so best is 0 only
    # when there is no document: the division is then over an empty array, whichever branch is taken.
    "directory.search.engine.x__relevance__mutmut_20": "best is 0 only for no documents",
    "directory.search.engine.x__relevance__mutmut_22": "best is 0 only for no documents",
    "directory.search.engine.x__relevance__mutmut_46": "1 - distance / radius is never above 1 (no distance < 0)",
    "directory.search.engine.x__relevance__mutmut_54": "1 - distance / radius is never above 1 (no distance < 0)",
    "directory.search.engine.x__relevance__mutmut_31": "a Bayesian rating is never below 0",
    # The sort keys hold the practitioner id in their low bits, so no two are equal: every sort
    # (stable or not, partitioned first or not) gives one order.
    "directory.search.engine.x__text__mutmut_8": "np.full(n, -1) is int64 already",
    "directory.search.engine.x__text__mutmut_32": "a float64 count of words equals len(stems) as an int16 does",
    "directory.search.engine.x__relevance__mutmut_12": "with no documents there is nothing to divide by best",
    "directory.search.engine.x__relevance__mutmut_18": "best is 0 only for no documents (every match scores above 0)",
    "directory.search.engine.x__relevance__mutmut_45": "every candidate is inside the radius: 1 - distance / radius "
    "is never below 0",
    **dict.fromkeys(
        (f"directory.search.engine.x__page__mutmut_{n}" for n in (21, 25, 29)),
        "no two keys are equal: any sort gives one order",
    ),
    "directory.search.engine.x__order_keys__mutmut_16": "<< 32 wraps every descending key alike (their "
    "bits are all at or above 2^31, ascending ones all below), so the order is the same",
    "directory.search.engine.x__page__mutmut_1": "start == len(keys) slices an empty page either way",
    "directory.search.engine.x__page__mutmut_3": "an empty page is iterated, never read as numbers",
    "directory.search.engine.x__page__mutmut_5": "an empty page is iterated, never read as numbers",
    "directory.search.engine.x__page__mutmut_12": "partitioning at the last key keeps every key: no ties to order",
    "directory.search.engine.x__page__mutmut_23": "no two keys are equal: any sort gives one order",
    "directory.search.engine.x__page__mutmut_27": "no two keys are equal: any sort gives one order",
    "directory.search.engine.x__page__mutmut_31": "no two keys are equal: any sort gives one order",
}


@dataclass
class Outcome:
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    untested: int = 0
    other: int = 0
    equivalent: int = 0
    seconds: float = 0.0
    complete: bool = True
    survivors: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        judged = self.killed + self.timeout + self.survived + self.untested
        return round((self.killed + self.timeout) / judged, 3) if judged > 0 else None


def copy_tree(into: Path) -> None:
    """The working tree as it is now (uncommitted tests included), without its caches and results."""
    shutil.copytree(ROOT, into, ignore=SKIP, symlinks=True)


def leave_unmutated(tree: Path, target: Target) -> None:
    """Each skipped function fenced in mutmut's pragmas, in the copy only: no mutant is made of it."""
    import ast

    for (path, function), _why in target.skip.items():
        source = tree / path
        lines = source.read_text().splitlines(keepends=True)
        found = [
            node
            for node in ast.parse("".join(lines)).body
            if isinstance(node, ast.FunctionDef) and node.name == function
        ]
        if not found:
            raise SystemExit(f"{path} has no function {function} to skip")
        node = found[0]
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        lines[node.end_lineno : node.end_lineno] = ["# pragma: no mutate end\n"]
        lines[first:first] = ["# pragma: no mutate start\n"]
        source.write_text("".join(lines))


def migrated_database(tree: Path, into: Path) -> Path:
    """One just-migrated SQLite file for every test session mutmut starts (one or more per mutant):
    each would otherwise run the migrations again before its first test."""
    build = (
        "import sys; from pathlib import Path; from directory import create_app; "
        "from tests import dbreset; from tests.conftest import _config; "
        "into = Path(sys.argv[1]); "
        "dbreset.migrated_file(create_app(_config(f'sqlite:///{into}.build', into.parent / 'data')), into)"
    )
    subprocess.run([sys.executable, "-c", build, str(into)], cwd=tree, env=environment(), check=True)  # noqa: S603 - our own interpreter, fixed code
    return into


def configure(tree: Path, target: Target) -> None:
    """mutmut reads its settings from the copy's pyproject.toml: only this module, only its tests."""
    tests = [t for t in target.tests if (tree / t.split("::")[0]).exists()]
    if not tests:
        raise SystemExit(f"none of the tests {target.tests} exist")
    settings = {
        "source_paths": ["directory/"],
        "only_mutate": list(target.files),
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-m", "not browser and not slow"],
        "use_git_change_detection": False,
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    with (tree / "pyproject.toml").open("a") as out:
        out.write("\n".join(lines) + "\n")


def offline(command: list[str]) -> list[str]:
    """The command in a network namespace of its own (no interface but a loopback that is down)."""
    unshare = shutil.which("unshare")
    probe = [unshare, "--net", "true"] if unshare else None
    if probe and subprocess.run(probe, capture_output=True).returncode == 0:  # noqa: S603 - the system unshare, fixed arguments
        return [unshare, "--net", *command]
    print("no network namespace here: the run relies on the tests needing no network", file=sys.stderr)
    return command


def environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECTORY_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_mutmut(tree: Path, target: Target, deadline: float | None, log, migrated: Path) -> bool:
    """mutmut run in the copy; False if it was stopped at the deadline (results so far are kept; None:
    no deadline). At a lower priority, so other work on the machine keeps its share."""
    command = offline(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(CHILDREN), *target.functions]
    )
    env = {**environment(), MIGRATED_VARIABLE: str(migrated)}
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        command,
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: os.nice(NICENESS),  # noqa: PLW1509 - only lowers the child's priority
    )
    try:
        process.wait(timeout=None if deadline is None else max(1.0, deadline - time.monotonic()))
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False


def read_results(tree: Path, target: Target, diffs: bool) -> Outcome:
    from fnmatch import fnmatch

    from mutmut.stats import status_by_exit_code

    outcome = Outcome()
    for path in target.files:
        meta = tree / "mutants" / f"{path}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            if target.functions and not any(fnmatch(name, p) for p in target.functions):
                continue
            status = status_by_exit_code[code]
            outcome.mutants += 1
            missed = status in ("survived", "no tests")
            if name in EQUIVALENT and not missed and status != "not checked":
                # Mutant numbers move when the code does: an entry that now names a caught mutant is
                # stale (counted as what it is, never as equivalent, so it cannot hide a real one).
                print(f"{name} is listed as equivalent but was {status}: check EQUIVALENT", file=sys.stderr)
            if name in EQUIVALENT and missed:
                outcome.equivalent += 1
            elif status == "killed":
                outcome.killed += 1
            elif status == "timeout":
                outcome.timeout += 1
            elif status in ("survived", "no tests"):
                if status == "survived":
                    outcome.survived += 1
                else:
                    outcome.untested += 1
                outcome.survivors.append(name)
            else:  # not checked (the run was stopped), suspicious, skipped
                outcome.other += 1
    if diffs:
        for name in outcome.survivors:
            shown = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                [sys.executable, "-m", "mutmut", "show", name], cwd=tree, capture_output=True, text=True
            )
            outcome.diffs[name] = "\n".join(
                line
                for line in shown.stdout.splitlines()
                if line[:1] in "+-" and line[:3] not in ("+++", "---")
            )
    return outcome


def run_module(name: str, target: Target, minutes: float | None, keep: Path | None, diffs: bool) -> Outcome:
    started = time.monotonic()
    scratch = keep or Path(tempfile.mkdtemp(prefix=f"mutation-{name}-"))
    tree = scratch / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    copy_tree(tree)
    leave_unmutated(tree, target)
    configure(tree, target)
    migrated = migrated_database(tree, scratch / "migrated.db")
    log_path = scratch / "mutmut.log"
    with log_path.open("w") as log:
        deadline = None if minutes is None else started + minutes * 60
        finished = run_mutmut(tree, target, deadline, log, migrated)
    outcome = read_results(tree, target, diffs)
    outcome.complete = finished
    outcome.seconds = round(time.monotonic() - started, 1)
    if not outcome.mutants:
        tail = log_path.read_text()[-3000:]
        print(f"{name}: no results; the end of mutmut's log:\n{tail}", file=sys.stderr)
    if keep is None:
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome


def as_record(name: str, target: Target, outcome: Outcome) -> dict:
    return {
        "files": list(target.files),
        "tests": list(target.tests),
        "functions": list(target.functions),
        "skipped": {f"{path}:{function}": why for (path, function), why in target.skip.items()},
        "rule": target.why,
        "mutants": outcome.mutants,
        "killed": outcome.killed,
        "survived": outcome.survived,
        "timeout": outcome.timeout,
        "untested": outcome.untested,
        "equivalent": outcome.equivalent,
        "not_judged": outcome.other,
        "share": outcome.share,
        "seconds": outcome.seconds,
        "complete": outcome.complete,
        "survivors": outcome.survivors,
        **({"diffs": outcome.diffs} if outcome.diffs else {}),
    }


def overall(modules: dict) -> dict:
    keys = ("mutants", "killed", "survived", "timeout", "untested", "equivalent", "not_judged")
    sums = {k: sum(m.get(k, 0) for m in modules.values()) for k in keys}
    judged = sums["killed"] + sums["timeout"] + sums["survived"] + sums["untested"]
    caught = sums["killed"] + sums["timeout"]
    return {
        **sums,
        "share": round(caught / judged, 3) if judged else None,
        "seconds": round(sum(m["seconds"] for m in modules.values()), 1),
        "target": TARGET_SHARE,
    }


COLUMNS = ("mutants", "killed", "timeout", "survived", "untested", "equivalent")


def table(modules: dict) -> str:
    rows = [("module", "mutants", "killed", "timeout", "survived", "untested", "equiv.", "share", "seconds")]
    for name, m in sorted(modules.items()):
        share = "-" if m["share"] is None else f"{m['share']:.1%}"
        mark = "" if m["complete"] else " (stopped)"
        rows.append((name, *(m.get(k, 0) for k in COLUMNS), share + mark, m["seconds"]))
    total = overall(modules)
    share = "-" if total["share"] is None else f"{total['share']:.1%}"
    rows.append(("all", *(total[k] for k in COLUMNS), share, total["seconds"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)


def previous_results(path: Path) -> dict:
    """What earlier runs found for other modules: one module at a time still adds up to a whole report."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
        return json.loads(path.read_text())["modules"]
    return {}


def recount(name: str, target: Target, scratch: Path, diffs: bool) -> Outcome:
    """A finished module's results read again from its kept copy (after EQUIVALENT changed, say), timed
    by the copy's files: from its settings being written to mutmut's last line of log."""
    tree = scratch / "tree"
    if not (tree / "mutants").is_dir():
        raise SystemExit(f"{name}: no kept run in {scratch}")
    outcome = read_results(tree, target, diffs)
    outcome.complete = outcome.other == 0
    outcome.seconds = round(
        (scratch / "mutmut.log").stat().st_mtime - (tree / "pyproject.toml").stat().st_mtime, 1
    )
    return outcome


def save(out: Path, modules: dict) -> None:
    """Written after every module, so a run stopped later keeps what it finished."""
    report = {"tool": f"mutmut {_version()}", "modules": modules, "overall": overall(modules)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    if out == RESULTS:
        from bench import report as readme

        readme.write()  # the README's mutation figures follow the file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(MODULES), help="one module (repeatable)")
    parser.add_argument(
        "--max-minutes", type=float, help="for the whole run (default: every module to its end)"
    )
    parser.add_argument("--keep", type=Path, help="scratch folder kept for a look (mutmut show …)")
    parser.add_argument("--diffs", action="store_true", help="record each survivor's change in the JSON")
    parser.add_argument(
        "--recount", action="store_true", help="read the kept runs in --keep again instead of running"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.recount and not args.keep:
        parser.error("--recount reads the runs kept in --keep DIR")
    names = args.module or list(MODULES)
    modules = previous_results(args.out)
    deadline = None if args.max_minutes is None else time.monotonic() + args.max_minutes * 60
    for name in names:
        left = None if deadline is None else (deadline - time.monotonic()) / 60
        if left is not None and left <= 0:
            print(f"{name}: skipped, the run's time is up", file=sys.stderr)
            continue
        keep = args.keep / name if args.keep else None
        if args.recount:
            outcome = recount(name, MODULES[name], keep, args.diffs)
        else:
            if keep:
                keep.mkdir(parents=True, exist_ok=True)
            outcome = run_module(name, MODULES[name], left, keep, args.diffs)
        modules[name] = as_record(name, MODULES[name], outcome)
        save(args.out, modules)
        print(f"{name}: {outcome.killed + outcome.timeout}/{outcome.mutants} caught in {outcome.seconds} s")
    print(table(modules))
    return 0


def _version() -> str:
    from importlib.metadata import version

    return version("mutmut")


if __name__ == "__main__":
    sys.exit(main())
