"""An index damaged under a running node: a garbled CURRENT pointer, segment files overwritten or
truncated. The node notices before it reads them, keeps answering, and rebuilds from the database."""

import gc
import json
import os
import subprocess
import sys
import textwrap

import pytest

from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.search.consistency import compare_store
from directory.search.node import node

# Whoosh leaves a file open when it fails to read a damaged table of contents (see test_index.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


def search(client, **params) -> dict:
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def several_segments(factory, client) -> list[int]:
    people = [
        factory.practitioner(display_name=f"P{i}", approach=f"Vermilion tone {i} knots") for i in range(6)
    ]
    for person in people[:3]:  # later commits: more than one segment
        factory.practitioner(person.user, display_name=person.display_name, approach="Cobalt change knots")
    assert search(client, q="vermilion")["total"] == 3
    return sorted(p.id for p in people)


def index_files(folder):
    return sorted(p for p in folder.iterdir() if p.name.startswith(("MAIN_", "_MAIN_")) and p.stat().st_size)


def settle_and_check(client, folder, everyone):
    """Answers stay 200 (degraded while the rebuild runs), then a new build equals the database."""
    for query in ("knots", "vermlion", "cobalt"):
        search(client, q=query)
    rebuilding = node()._rebuilding
    assert rebuilding is not None and rebuilding.wait(30)
    body = search(client, q="knots")
    assert body["degraded"] is False
    assert sorted(r["id"] for r in body["results"]) == everyone
    assert node().store.current() != folder
    assert compare_store(node().store)["count"] == 0
    gc.collect()


def test_a_garbled_current_pointer_is_rebuilt_not_trusted(app, client, factory):
    everyone = several_segments(factory, client)
    folder = node().store.current()
    (folder.parent / "CURRENT").write_bytes(b"\xff\xfe\x00ix-\x80 garbage")
    settle_and_check(client, folder, everyone)


def test_an_overwritten_segment_is_noticed_by_the_open_searcher(app, client, factory):
    everyone = several_segments(factory, client)
    folder = node().store.current()
    for path in index_files(folder):
        data = bytearray(path.read_bytes())
        for i in range(0, len(data), 7):  # same size, other bytes: only the file's mtime tells
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
    settle_and_check(client, folder, everyone)


def test_damage_is_not_blessed_by_a_later_commit(app, client, factory):
    everyone = several_segments(factory, client)
    folder = node().store.current()
    damaged = index_files(folder)[0]
    # Overwritten, not truncated: the subprocess tests below cover truncation.
    damaged.write_bytes(bytes(b ^ 0x33 for b in damaged.read_bytes()))
    # A write now: its catch-up must refuse the damaged index rather than record it as the new normal.
    row = db.session.get(Practitioner, everyone[0])
    row.approach = "Teal after the damage knots"
    db.session.commit()
    node().catch_up_quietly()
    settle_and_check(client, folder, everyone)
    assert [r["id"] for r in search(client, q="teal")["results"]] == [everyone[0]]


def test_many_commits_are_never_taken_for_damage(app, client, factory):
    person = factory.practitioner(display_name="Busy", approach="start")
    search(client, q="start")
    folder, first_build = node().store.current(), node()._rebuilding
    for n in range(25):  # enough commits for Whoosh to merge and delete segment files
        factory.practitioner(person.user, display_name="Busy", approach=f"round{n}x")
        assert [r["id"] for r in search(client, q=f"round{n}x")["results"]] == [person.id]
    assert node().store.current() == folder and node()._rebuilding is first_build


TRUNCATE_UNDER_READER = textwrap.dedent(
    """
    import json, sys
    from directory import create_app
    from directory.search.node import node

    config = json.loads(sys.argv[1])
    app = create_app(config)
    client = app.test_client()
    answers = []
    with app.app_context():
        answers.append(client.get("/api/v1/search?q=knots").get_json()["total"])  # segments mapped
        folder = node().store.current()
        for path in sorted(folder.iterdir()):
            if path.name.startswith("MAIN_") and path.stat().st_size:
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        for query in ("knots", "vermilion", "cobalt", "vermlion", "knots"):
            response = client.get("/api/v1/search", query_string={"q": query})
            answers.append(response.status_code)
        node()._rebuilding.wait(30)
        answers.append(client.get("/api/v1/search?q=knots").get_json()["total"])
    print(json.dumps(answers))
    """
)


def test_a_segment_truncated_under_an_open_reader_does_not_kill_the_process(app, client, factory):
    """Truncated under an open searcher: the next searches notice before they read, and answer."""
    several_segments(factory, client)
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "DATA_DIR": app.config["DATA_DIR"],
        "SECRET_KEY": "test",
        "TESTING": True,
    }
    db.session.remove()
    done = subprocess.run(
        [sys.executable, "-c", TRUNCATE_UNDER_READER, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers[0] == 6 and answers[-1] == 6
    assert answers[1:-1] == [200] * 5


READ_AFTER_THE_CHECK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from directory.search.index.files import IndexFiles

    folder = Path(sys.argv[1])
    searcher = IndexFiles(str(folder.parent.parent)).open_at(folder).searcher()
    reader = searcher.reader()
    # Truncated after the damage check has passed: the reads below go straight to the files.
    for path in sorted(folder.iterdir()):
        if path.name.startswith("MAIN_") and path.stat().st_size:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    try:
        list(reader.all_stored_fields())
        list(reader.lexicon("approach"))
    except Exception as exc:  # damage read as damage: the caller rebuilds
        print("raised", type(exc).__name__)
    else:
        print("read")
    """
)


def test_a_segment_truncated_between_the_check_and_the_read_raises_not_kills(app, client, factory):
    """The damage check runs before each search, but damage can come during one: the index is read
    with plain reads, so a read past a file's new end fails in Python, where a memory map's is SIGBUS."""
    several_segments(factory, client)
    folder = node().store.current()
    db.session.remove()
    done = subprocess.run(
        [sys.executable, "-c", READ_AFTER_THE_CHECK, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split()[0] == "raised", done.stdout


def test_a_reopen_that_fails_on_a_damaged_segment_still_answers(app, client, factory, monkeypatch):
    """Found by the crash test: a searcher closed for a refresh whose reopening failed was closed again
    by the recovery path (ReaderClosed), and the search answered 500 instead of falling back."""
    everyone = several_segments(factory, client)
    search_node = node()
    search_node.searcher()
    monkeypatch.setattr(type(search_node._searcher), "up_to_date", lambda self: False)

    def damaged(*args, **kwargs):
        raise EOFError("Ran out of input")

    monkeypatch.setattr(type(search_node._ix), "searcher", damaged)
    body = search(client, q="knots")  # 200: degraded, or rebuilt within the wait
    monkeypatch.undo()
    assert body["degraded"] or sorted(r["id"] for r in body["results"]) == everyone
    rebuilding = search_node._rebuilding
    assert rebuilding is not None and rebuilding.wait(30)
    assert sorted(r["id"] for r in search(client, q="knots")["results"]) == everyone


def test_a_searcher_in_use_on_another_thread_survives_a_refresh(app, client, factory):
    """Threaded workers: one request may still read through the searcher another replaces after a
    commit. It is let go, not closed, so the first request finishes its search."""
    several_segments(factory, client)
    search_node = node()
    in_use = search_node.searcher()  # a request on another thread holds this one
    factory.practitioner(display_name="P9", approach="Vermilion late knots")
    search(client, q="vermilion")  # this request catches up and refreshes the node's searcher
    assert search_node.searcher() is not in_use
    from whoosh.qparser import QueryParser

    hits = in_use.search(QueryParser("text", in_use.schema).parse("vermilion"), limit=None)
    assert len(hits) == 3  # still readable: what the index held when that request began
