"""`flask directory indexer [--follow]`: catches a node's index up with the outbox, and keeps it there."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.search.follower import Follower
from directory.search.index import IndexStore
from directory.search.models import SearchOutbox
from directory.search.node import node
from tests.ops.index_check import mismatches
from tests.ops.nodes import REPO


def edit_outside_requests(practitioner_id: int, approach: str) -> None:
    """A change no request catches up after: only the indexer (or a search) can apply it."""
    row = db.session.get(Practitioner, practitioner_id)
    row.approach = approach
    db.session.commit()


def batches(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "search.indexer.batch"]


def test_indexer_catches_up_once_and_logs_each_batch(app, client, factory, runner, caplog):
    caplog.set_level(logging.INFO, logger="directory")
    practitioner = factory.practitioner(display_name="Once")
    client.get("/api/v1/search")
    edit_outside_requests(practitioner.id, "Saffron method.")
    assert node().store.lag()["pending"] == 1

    result = runner.invoke(args=["directory", "indexer"])

    assert result.exit_code == 0, result.output
    assert "Applied 1 outbox rows" in result.output
    assert node().store.lag()["pending"] == 0
    assert mismatches(app.config["DATA_DIR"]) == []
    (line,) = batches(caplog)
    assert line.rows == 1 and line.practitioners == 1 and line.applied_id >= 1 and line.seconds >= 0


def test_indexer_builds_a_missing_index(app, factory, runner, caplog):
    caplog.set_level(logging.INFO, logger="directory")
    factory.practitioner(display_name="Fresh node")
    assert node().store.current() is None

    result = runner.invoke(args=["directory", "indexer"])

    assert result.exit_code == 0, result.output
    assert node().store.current() is not None
    assert mismatches(app.config["DATA_DIR"]) == []
    assert [r for r in caplog.records if getattr(r, "event", None) == "search.indexer.rebuilt"]


def test_the_follower_survives_a_database_outage(app, client, factory, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="directory")
    practitioner = factory.practitioner(display_name="Outage")
    client.get("/api/v1/search")
    edit_outside_requests(practitioner.id, "Applied after the outage.")
    follower = Follower(node())
    real_behind = follower.store.behind

    def down():
        raise sa.exc.OperationalError("SELECT max(id)", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(follower.store, "behind", down)
    assert follower.step() == 0 and follower.step() == 0
    assert follower.failures == 2 and follower._delay() > follower.interval
    monkeypatch.setattr(follower.store, "behind", real_behind)
    assert follower.step() == 1
    assert follower.failures == 0 and follower._delay() == follower.interval
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events.count("search.indexer.database_unreachable") == 2
    assert "search.indexer.recovered" in events
    assert mismatches(app.config["DATA_DIR"]) == []


def test_catching_up_once_fails_loudly_without_a_database(app, runner, monkeypatch):
    def down(self):
        raise sa.exc.OperationalError("SELECT max(id)", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(IndexStore, "behind", down)
    monkeypatch.setattr(IndexStore, "current", lambda self: Path("/nonexistent-but-not-none"))
    result = runner.invoke(args=["directory", "indexer"])
    assert result.exit_code == 1
    assert "could not be brought up to date" in result.output


def test_the_follower_rebuilds_an_index_deleted_under_it(app, client, factory):
    practitioner = factory.practitioner(display_name="Deleted")
    client.get("/api/v1/search")
    follower = Follower(node())
    (node().store.root / "CURRENT").unlink()
    edit_outside_requests(practitioner.id, "Rebuilt from the database.")
    follower.step()
    assert mismatches(app.config["DATA_DIR"]) == []


def test_a_rebuild_keeps_looking_for_rows_of_transactions_still_in_flight(app, client, factory):
    """A rebuild starts following at the newest outbox id; an older id not visible yet belongs to a
    transaction that has not committed, whose change the build may not have read: it stays a gap."""
    early = factory.practitioner(display_name="Early")
    late = factory.practitioner(display_name="Late").id  # a rebuild lets go of the session's objects
    store = node().store
    # Row `hidden` as if its transaction had not committed when the build read the database.
    hidden = SearchOutbox(practitioner_id=late)
    db.session.add(hidden)
    db.session.flush()
    db.session.add(SearchOutbox(practitioner_id=early.id))
    db.session.flush()
    newest = hidden.id
    db.session.delete(hidden)
    db.session.commit()
    store.rebuild()
    state = store.progress(store.current())
    assert str(newest) in state["gaps"]
    # It commits now, its change with its row (Core statements: the ORM would write a row of its own).
    db.session.execute(
        sa.update(Practitioner).where(Practitioner.id == late).values(approach="Committed late.")
    )
    db.session.execute(sa.insert(SearchOutbox).values(id=newest, practitioner_id=late))
    db.session.commit()
    store.catch_up()
    assert str(newest) not in store.progress(store.current())["gaps"]
    assert mismatches(app.config["DATA_DIR"]) == []


# -- as a process -------------------------------------------------------------------------------


def indexer_process(app, log_path, *extra) -> subprocess.Popen:
    """The indexer as a node runs it; its output goes to a file (a pipe nobody reads could block it)."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "DIRECTORY_DATA_DIR": app.config["DATA_DIR"],
        "SECRET_KEY": "test",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "directory", "indexer", *extra]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)


def wait_until_agrees(data_dir: str, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        db.session.remove()
        try:
            if not mismatches(data_dir):
                return
        except Exception:  # noqa: BLE001 - no index yet
            if time.monotonic() > deadline:
                raise
        assert proc.poll() is None, f"the indexer exited with {proc.returncode}"
        assert time.monotonic() < deadline, mismatches(data_dir)
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_following_applies_changes_and_stops_cleanly_on_a_signal(app, factory, tmp_path, sig):
    practitioners = [factory.practitioner(display_name=f"Followed {n}").id for n in range(3)]
    db.session.remove()
    log = tmp_path / "indexer.log"
    proc = indexer_process(app, log, "--follow")
    try:
        wait_until_agrees(app.config["DATA_DIR"], proc)  # it built the missing index
        for n, pid in enumerate(practitioners):
            edit_outside_requests(pid, f"Round {n} while followed.")
        wait_until_agrees(app.config["DATA_DIR"], proc)
    finally:
        proc.send_signal(sig)
        proc.wait(timeout=15)
    output = log.read_text()
    assert proc.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "search.indexer.rebuilt" for line in lines), output
    applied = [line for line in lines if line.get("event") == "search.indexer.batch"]
    assert applied and sum(line["rows"] for line in applied) >= 3, output
    assert all(line["logger"] == "directory.search.follower" for line in applied)
    assert "Traceback" not in output


@pytest.mark.slow
def test_killed_at_any_moment_it_resumes_and_loses_nothing(app, factory, tmp_path):
    practitioners = [factory.practitioner(display_name=f"Killed {n}").id for n in range(4)]
    db.session.remove()
    log = tmp_path / "indexer.log"
    proc = indexer_process(app, log, "--follow", "--interval", "0.02")
    try:
        wait_until_agrees(app.config["DATA_DIR"], proc)
        for round_ in range(6):
            for pid in practitioners:
                edit_outside_requests(pid, f"Kill round {round_} word{round_}x{pid}.")
            time.sleep(0.01 * round_)  # the kill lands at a different point of the round each time
            proc.kill()
            proc.wait()
            proc = indexer_process(app, log, "--follow", "--interval", "0.02")
        wait_until_agrees(app.config["DATA_DIR"], proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0, log.read_text()
