"""The crash bench, reduced: under a write load, kill -9 a worker, the indexer and the whole server
once each, then delete the index folder and corrupt it twice while searches run.

After each kill and each damage: every acknowledged write is in the database, `audit-verify` passes,
the index equals the database once caught up, and no evidence file is orphaned, missing or torn.
The full run is `python -m bench.faults.crash` (50 kills); this is the same code with fewer rounds.

The node gets a database of its own: a SQLite file, or on PostgreSQL a database named after the
suite's with `_ops_crash` appended, made afresh and dropped after, never the suite's own.
"""

import os

import pytest
import sqlalchemy as sa

from bench.faults.crash import run
from bench.faults.crashcheck import DAMAGES
from bench.harness.scratch import drop_database

pytestmark = pytest.mark.slow


def node_database(tmp_path) -> str:
    suite = os.environ.get("DIRECTORY_TEST_DATABASE_URL", "")
    if suite.startswith("postgresql"):
        url = sa.engine.make_url(suite)
        return url.set(database=f"{url.database}_ops_crash").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'node.db'}"


def describe(report: dict) -> str:
    """What went wrong, for the assertion message: the rounds and damages that failed, and the logs."""
    lines = [f"{key}={report['figures'][key]}" for key in report["must_be_zero"] if report["figures"][key]]
    for item in report["rounds"]:
        if item["failures"]:
            lines.append(f"after the {item['kill']} kill: {item['checks']}")
    for phase in report["damage"]:
        if phase["failures"]:
            lines.append(f"{phase['damage']}: {phase['answers']} rebuilt={phase['rebuilt_seconds']}")
            lines.append(f"  {phase['checks']['lost'][:3]} {phase['checks']['index']['mismatches'][:3]}")
    return "\n".join(lines + [f"errors: {report['errors'][:5]}"])


def test_kills_and_index_damage_lose_nothing(tmp_path):
    url = node_database(tmp_path)
    try:
        report = run(
            tmp_path / "node",
            url,
            kills=3,
            damages=DAMAGES,
            practitioners=4,
            clients=2,
            gap=(0.3, 1.0),
            settle=0.5,
        )
    finally:
        drop_database(url)
    figures = report["figures"]
    logs = f"logs in {tmp_path / 'node'}"
    assert figures["failures"] == 0, f"{describe(report)}\n{logs}"
    for key in report["must_be_zero"]:
        assert figures[key] == 0, key
    # One kill of each kind (an indexer kill is a worker kill while the node has no indexer command).
    kinds = {"worker", "server", "indexer" if report["indexer"] else "worker"}
    assert {r["kill"] for r in report["rounds"]} == kinds
    assert figures["writes_acknowledged"] > 0 and figures["practitioners_compared"] >= 4
    assert figures["evidence_files_at_end"] > 0  # credentials were submitted, with their files
    for phase in report["damage"]:
        assert phase["searches"] > 0 and phase["not_200"] == 0, phase["answers"]
        assert phase["rebuilt_seconds"] is not None, phase


def test_a_deleted_place_id_is_never_handed_out_again(client, factory):
    """Found by the crash bench, whose ledger met a place id twice."""
    practitioner = factory.practitioner(display_name="Moves Around")
    headers = factory.headers(practitioner.user)
    first = client.post("/api/v1/me/locations", json={"lat": 30.27, "lon": -97.74}, headers=headers)
    gone = first.get_json()["id"]
    assert client.delete(f"/api/v1/me/locations/{gone}", headers=headers).status_code == 204
    second = client.post("/api/v1/me/locations", json={"lat": 47.6, "lon": -122.3}, headers=headers)
    assert second.status_code == 201 and second.get_json()["id"] != gone
