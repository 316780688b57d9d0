"""A large rebuild is spread over processes that each read and write their own share (index/parallel.py):
the index it makes answers as one built in-process does, and a process that fails or dies fails the
build (nothing half-built goes live) instead of hanging it."""

import multiprocessing
from pathlib import Path

import pytest

from directory.search.index import building, parallel
from directory.search.node import node

APPROACHES = [
    "Cerulean pressure for stiff shoulders",
    "Vermilion stretching after surgery",
    "Trigger point work for desk workers",
    "Gentle myofascial release, cerulean calm",
    "Sciatica relief with careful pressure",
    "Runners and their hamstrings",
    "Jaw tension and headaches",
]
QUERIES = [
    {"q": "cerulean"},
    {"q": "vermilion stretching"},
    {"q": "knots"},
    {"q": "sciatica"},
    {"q": "ceruleen"},  # corrected from a word only the practitioners' approaches hold
    {"q": "jaw pain"},
    {"lat": 30.27, "lon": -97.74, "radius_km": 50},
]


def answers(client) -> list:
    found = []
    for params in QUERIES:
        response = client.get("/api/v1/search", query_string=params)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        found.append(
            ([r["id"] for r in body["results"]], body.get("showing_results_for"), body.get("suggestion"))
        )
    return found


def segments() -> list[int]:
    """Documents in each segment of the live index, the parent's own (the words document) last."""
    with node().store.open().searcher() as searcher:
        return sorted(
            (reader.doc_count_all() for reader, _ in searcher.reader().leaf_readers()), reverse=True
        )


@pytest.fixture
def listed(app, factory):
    people = []
    for i, approach in enumerate(APPROACHES * 2):
        practitioner = factory.practitioner(display_name=f"Person {i}", approach=approach)
        if i % 3 == 0:
            factory.location(practitioner)
        people.append(practitioner)
    return people


def test_a_build_spread_over_processes_answers_as_one_built_in_process(app, client, listed, monkeypatch):
    node().store.rebuild()
    assert segments() == [len(listed) + 1]  # under the threshold: one segment, built here
    in_process = answers(client)
    assert in_process[0][0] and "cerulean" in (
        in_process[4][1],
        in_process[4][2],
    )  # the comparison has something to compare

    app.config["SEARCH_PARALLEL_BUILD_FROM"] = len(listed)  # the threshold counts itself in
    monkeypatch.setattr(building, "BATCH", 3)  # several batches, so both processes may take some
    summary = node().store.rebuild()
    assert summary["documents"] == len(listed)
    parts = segments()
    # Every practitioner was written by a child process; the parent's segment holds only the words.
    assert parts[-1] == 1 and sum(parts[:-1]) == len(listed) and len(parts) >= 2
    assert answers(client) == in_process


def test_one_below_the_threshold_is_built_in_process(app, listed):
    app.config["SEARCH_PARALLEL_BUILD_FROM"] = len(listed) + 1
    node().store.rebuild()
    assert segments() == [len(listed) + 1]


def test_one_process_only_is_never_spread(app, listed):
    app.config["SEARCH_PARALLEL_BUILD_FROM"] = 1
    node().store.procs = 1
    node().store.rebuild()
    assert segments() == [len(listed) + 1]


def test_a_failing_build_process_fails_the_build_and_the_live_index_stays(
    app, client, listed, monkeypatch, tmp_path
):
    node().store.rebuild()
    live = node().store.current()
    app.config["SEARCH_PARALLEL_BUILD_FROM"] = 1
    # The children read a database that is not there; the parent still reads the real one.
    real = parallel._settings
    monkeypatch.setattr(
        parallel,
        "_settings",
        lambda config: {**real(config), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'none' / 'x.db'}"},
    )
    with pytest.raises(RuntimeError, match="an index build process failed"):
        node().store.rebuild()
    assert node().store.current() == live
    assert sorted(p.name for p in Path(live).parent.glob("ix-*")) == [live.name]  # no half build left
    assert answers(client)[0][0]


def test_a_build_process_that_dies_fails_the_build_instead_of_hanging_it(app, listed, monkeypatch):
    app.config["SEARCH_PARALLEL_BUILD_FROM"] = 1
    monkeypatch.setattr(building, "BATCH", 1)
    killed = []

    def kill_on_first_batch(self, n):
        if not killed:
            for child in multiprocessing.active_children():
                child.kill()
                killed.append(child)

    monkeypatch.setattr("tqdm.tqdm.update", kill_on_first_batch)
    with pytest.raises(RuntimeError, match="an index build process"):
        node().store.rebuild()
    assert killed
    assert not [c for c in multiprocessing.active_children() if c in killed]
