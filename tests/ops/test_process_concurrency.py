"""Four client processes against two nodes at once: practitioners saving profiles while two admins
decide their credentials. No user sees a 500 (or a LockError under any name), and afterwards each
node's index holds exactly what the database holds, practitioner by practitioner."""

import io
import json
import subprocess
import sys

import pytest

from tests.factories import PNG, submission
from tests.ops.index_check import mismatches
from tests.ops.nodes import REPO

pytestmark = pytest.mark.slow
PRACTITIONERS = 8
ROUNDS = 6


def run_load(jobs: list[dict], timeout: float = 300) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ops.load", json.dumps(job)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def practitioners_with_pending_credentials(factory, client, count: int) -> list[dict]:
    made = []
    for n in range(count):
        practitioner = factory.practitioner(display_name=f"Load {n}", approach="Before the load.")
        factory.location(practitioner, lat=30.0 + n / 10, lon=-97.0)
        token = factory.token(practitioner.user)
        data = {**submission(number=f"CMT-{10000 + n}"), "evidence": (io.BytesIO(PNG), "licence.png")}
        created = client.post(
            "/api/v1/me/credentials",
            data=data,
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
        assert created.status_code == 201, created.get_json()
        made.append({"pid": practitioner.id, "token": token, "credential": created.get_json()["id"]})
    return made


def test_writers_and_deciding_admins_in_four_processes_lose_nothing(cluster, factory, client):
    a, b = cluster
    made = practitioners_with_pending_credentials(factory, client, PRACTITIONERS)
    admins = [factory.token(factory.user("admin")) for _ in range(2)]
    ports = [a.port, b.port]
    halves = [made[: PRACTITIONERS // 2], made[PRACTITIONERS // 2 :]]
    credentials = [item["credential"] for item in made]
    jobs = [
        {"kind": "profiles", "ports": ports, "rounds": ROUNDS, "tag": tag, "practitioners": half}
        for tag, half in zip(("alpha", "omega"), halves, strict=True)
    ] + [
        {"kind": "decisions", "ports": ports, "token": token, "credentials": credentials, "seed": seed}
        for seed, token in enumerate(admins)
    ]

    results = run_load(jobs)

    for job, result in zip(jobs, results, strict=True):
        assert result["unexpected"] == [], (job["kind"], result["unexpected"])
    saves = sum(r["statuses"].get("200", 0) for r in results[:2])
    assert saves == PRACTITIONERS * ROUNDS
    decided = sum(r["statuses"].get("200", 0) for r in results[2:])
    assert decided == 2 * PRACTITIONERS, (
        "each credential verified once and revoked once, by one admin or the other"
    )
    for node in cluster:
        node.wait_ready(caught_up=True, timeout=15)
        assert mismatches(node.data_dir) == [], node.logs()
        # Both of its indexers (the app's catch-up and `indexer --follow`) wrote; none failed.
        logs = node.logs()
        assert "Traceback" not in logs and "LockError" not in logs, logs
        assert "search.indexer.catch_up_failed" not in logs, logs
        assert '" 500 ' not in (node.folder / "access.log").read_text()
    last = ROUNDS - 1
    for item, tag in [(made[0], "alpha"), (made[-1], "omega")]:
        for node in cluster:
            assert node.search_ids(q=f"{tag}r{last}p{item['pid']}") == [item["pid"]]
            assert node.search_ids(q=f"{tag}r{last - 1}p{item['pid']}") == []
