"""Two nodes, one database: a change saved through one is found by search on the other, which is
never restarted; and each node's own index ends up exactly what the database says."""

import time

import pytest

from tests.ops.index_check import mismatches

pytestmark = pytest.mark.slow
CHANGES = 6
WITHIN_SECONDS = 5


def wait_for(predicate, timeout: float = WITHIN_SECONDS):
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_change_through_one_node_is_found_on_the_other(cluster, factory):
    a, b = cluster
    users = [factory.user("practitioner") for _ in range(2)]
    tokens = [factory.token(user) for user in users]
    pids = []
    for n, token in enumerate(tokens):
        status, body = a.request("PUT", "/api/v1/me/profile", {"display_name": f"Replica {n}"}, token)
        assert status == 200, body
        pids.append(body["id"])
    for n in range(CHANGES):
        token, pid = tokens[n % 2], pids[n % 2]
        writer, reader = (a, b) if n % 2 == 0 else (b, a)
        word = f"replicaword{n}x"
        status, body = writer.request(
            "PUT",
            "/api/v1/me/profile",
            {"display_name": f"Replica {n % 2}", "approach": f"Now {word}."},
            token,
        )
        assert status == 200, body
        wait_for(lambda reader=reader, word=word, pid=pid: reader.search_ids(q=word) == [pid])
        if n >= 2:
            assert reader.search_ids(q=f"replicaword{n - 2}x") == [], "the previous text is gone too"


def test_the_indexer_keeps_an_idle_node_in_step(cluster, factory):
    """No search reaches node b: its indexer alone applies what node a wrote."""
    a, b = cluster
    user = factory.user("practitioner")
    token = factory.token(user)
    for n in range(3):
        status, body = a.request(
            "PUT", "/api/v1/me/profile", {"display_name": "Idle", "approach": f"Idle round {n}."}, token
        )
        assert status == 200, body
    b.wait_ready(caught_up=True, timeout=WITHIN_SECONDS)
    assert mismatches(b.data_dir) == [], b.logs()
    assert mismatches(a.data_dir) == [], a.logs()
    assert '"event": "search.indexer.batch"' in b.log("indexer")
