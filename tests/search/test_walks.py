"""API walks: a cursor pins the index generation it started on, so paging returns every match exactly
once while ratings and profiles change; it holds SEARCH_CURSOR_SECONDS, and then (or on another
node) answers 410. Pins are shared so that memory stays bounded however many walks start."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from itsdangerous import URLSafeSerializer

from directory.rules import RuleError
from directory.search import walks
from directory.search.arrays import IndexView
from directory.search.index import IndexUnavailable
from directory.search.node import node
from directory.search.record import HEAD_DTYPE
from directory.timeutil import now_utc
from tests.search.test_query_inputs import assert_error_shape, found, get, ids_of, person

BODY = "Sorted out my shoulder knots in two sessions."


@pytest.fixture
def eight(factory):
    return [
        person(factory, display_name=f"Knot person {i}", approach="Knots and trigger points.")
        for i in range(8)
    ]


def walk(client, **params) -> tuple[list[dict], dict]:
    """The first page of a walk, as (pages so far, last answer)."""
    first = found(client, walk="true", **params)
    return [first], first


def step(client, cursor: str, **params):
    return client.get("/api/v1/search", query_string={"cursor": cursor, **params})


def rate(client, factory, practitioner, stars: int) -> None:
    author = factory.user("client")
    written = client.post(
        f"/api/v1/practitioners/{practitioner.id}/reviews",
        json={"rating": stars, "body": BODY, "author_name": "Sam T."},
        headers=factory.headers(author),
    )
    assert written.status_code == 201, written.get_json()


def test_a_walk_returns_every_match_once_while_ratings_and_profiles_change(client, factory, eight):
    pages, answer = walk(client, q="knots", sort="rating", per_page=3)
    before = ids_of(answer)
    seen = list(before)
    while answer["next_cursor"]:
        # Between pages the last-ranked rise to the top and a new match appears: a page-number walk
        # would show someone twice and miss someone.
        rest = [p for p in eight if p.id not in seen]
        for p in rest[-2:]:
            rate(client, factory, p, 5)
        factory.practitioner(user=rest[0].user, display_name=rest[0].display_name, approach="Knots, changed.")
        person(factory, approach="Knots too, newly listed.")
        response = step(client, answer["next_cursor"], per_page=3)
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        pages.append(answer)
        seen += ids_of(answer)
    assert sorted(seen) == sorted(p.id for p in eight)  # each of the eight once, no newcomer
    assert len(seen) == len(set(seen))
    assert [page["page"] for page in pages] == [1, 2, 3]
    assert all(page["total"] == 8 for page in pages)
    # The changes were real: a search now orders (and counts) differently.
    now = found(client, q="knots", sort="rating", per_page=50)
    assert now["total"] > 8 and ids_of(now)[: len(seen)] != seen


def test_the_last_page_has_no_cursor_and_outside_a_walk_there_is_none(client, eight):
    assert found(client, q="knots", per_page=3)["next_cursor"] is None
    _, answer = walk(client, q="knots", per_page=8)
    assert len(answer["results"]) == 8 and answer["next_cursor"] is None
    _, answer = walk(client, q="knots", per_page=7)
    last = step(client, answer["next_cursor"]).get_json()
    assert len(last["results"]) == 1 and last["next_cursor"] is None


def test_a_walk_follows_the_order_of_the_search_and_per_page_may_change(client, eight):
    whole = ids_of(found(client, q="knots", per_page=8))
    _, answer = walk(client, q="knots", per_page=2)
    seen = ids_of(answer)
    for size in (1, 4, 3):
        answer = step(client, answer["next_cursor"], per_page=size).get_json()
        seen += ids_of(answer)
    assert seen == whole


def test_a_walk_keeps_its_filters_place_and_sort(client, factory, eight):
    far = person(factory, places=((47.6062, -122.3321),), approach="Knots in Seattle.")
    _, answer = walk(client, q="knots", lat=30.2672, lon=-97.7431, sort="distance", per_page=5)
    rest = step(client, answer["next_cursor"]).get_json()
    assert far.id not in ids_of(answer) + ids_of(rest)
    assert rest["sort"] == "distance" and rest["location"] == answer["location"]
    assert all(r["distance_km"] is not None for r in rest["results"])


def test_a_walk_of_a_misspelt_query_stays_on_its_correction(client, factory):
    for _ in range(3):
        person(factory, approach="Sciatica relief through gentle work.")
    _, answer = walk(client, q="sciatca", per_page=2)
    assert answer["showing_results_for"] == "sciatica"
    rest = step(client, answer["next_cursor"]).get_json()
    assert rest["showing_results_for"] == "sciatica" and len(rest["results"]) == 1


def test_a_cursor_holds_five_minutes_then_asks_to_start_again(client, eight, clock):
    _, answer = walk(client, q="knots", per_page=2)
    clock.advance(seconds=299)
    answer = step(client, answer["next_cursor"]).get_json()
    assert len(answer["results"]) == 2
    clock.advance(seconds=2)
    gone = step(client, answer["next_cursor"])
    assert gone.status_code == 410
    assert_error_shape(gone, "cursor")
    assert "Start the search again" in gone.get_json()["message"]


def test_a_cursor_from_another_node_asks_to_start_again(client, make_app, eight, tmp_path):
    _, answer = walk(client, q="knots", per_page=2)
    other = make_app(DATA_DIR=str(tmp_path / "another-node"))
    gone = other.test_client().get("/api/v1/search", query_string={"cursor": answer["next_cursor"]})
    assert gone.status_code == 410
    assert_error_shape(gone, "cursor")


def forged(app, **changes) -> str:
    """A cursor of a real walk with some of its fields changed, signed with the app's own key."""
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt=walks.SALT)
    with app.test_request_context():
        data = serializer.loads(
            get(app.test_client(), q="knots", walk="true", per_page=1).get_json()["next_cursor"]
        )
    return serializer.dumps({**data, **changes})


@pytest.mark.parametrize(
    "make_cursor",
    [
        lambda app: "not-a-cursor",
        lambda app: URLSafeSerializer("another secret", salt=walks.SALT).dumps({"pin": "x"}),
        lambda app: URLSafeSerializer(app.config["SECRET_KEY"], salt="another salt").dumps({"pin": "x"}),
        lambda app: forged(app, now="yesterday"),
        lambda app: forged(app, query={"q": "knots"}),
        lambda app: forged(app, query={"q": "knots", "password": "x"}),
        lambda app: forged(app, extra=1),
        lambda app: "x" * 4001,
    ],
    ids=[
        "garbage",
        "other-key",
        "other-salt",
        "bad-clock",
        "missing-fields",
        "unknown-field",
        "extra",
        "long",
    ],
)
def test_a_cursor_this_search_did_not_give_out_is_refused_by_name(app, client, eight, make_cursor):
    response = step(client, make_cursor(app))
    assert response.status_code == 422, response.get_json()
    assert_error_shape(response, "cursor")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"cursor": "c", "q": "knots"}, "cursor"),
        ({"cursor": "c", "page": 2}, "cursor"),
        ({"cursor": "c", "walk": "true"}, "cursor"),
        ({"cursor": "c", "near": "Austin"}, "cursor"),
        ({"walk": "true", "page": 2}, "page"),
        ({"walk": "maybe"}, "walk"),
        ({"cursor": "c", "per_page": 0}, "per_page"),
    ],
)
def test_bad_walk_arguments_are_refused_by_name(client, eight, params, field):
    response = get(client, **params)
    assert response.status_code == 422, response.get_json()
    assert_error_shape(response, field)


def test_a_walk_needs_the_index_and_says_so_while_it_is_rebuilt(app, client, eight, monkeypatch):
    monkeypatch.setattr(type(node()), "ready_view", lambda self, wait: None)
    response = get(client, q="knots", walk="true")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert found_degraded(client)["degraded"]


def test_a_walk_asked_for_as_the_index_goes_away_says_so(app, client, eight, monkeypatch):
    found(client, q="knots")

    def gone(self):
        raise IndexUnavailable("no index has been built yet")

    monkeypatch.setattr(type(node()), "generation", gone)
    response = get(client, q="knots", walk="true")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"


def found_degraded(client) -> dict:
    response = get(client, q="knots")
    assert response.status_code == 200
    return response.get_json()


# -- the pins: node-wide, and how many generations walks hold ------------------------------------------
def empty_view() -> IndexView:
    return IndexView([], np.ones(0, bool), np.zeros(0, HEAD_DTYPE), *(np.zeros(0),) * 3, 0, 1.0)


class Index:
    """Stands in for a node's live index: a build folder whose generations are files on disk."""

    def __init__(self, root: Path):
        self.folder = root / "ix-1"
        self.folder.mkdir(parents=True)
        self.number = 0
        self.next()

    def next(self) -> None:
        """A commit: a new table of contents and segment, the old ones cleaned away."""
        for old in self.folder.iterdir():
            old.unlink()
        self.number += 1
        (self.folder / f"_MAIN_{self.number}.toc").write_text("toc")
        (self.folder / f"MAIN_s{self.number}.seg").write_text("segment")
        self.view = empty_view()

    def live(self) -> walks.Generation:
        return walks.Generation(self.folder, self.number, (f"MAIN_s{self.number}",), self.view)


@pytest.fixture
def index(tmp_path) -> Index:
    return Index(tmp_path / "search")


def pins_of(root: Path, opened: list | None = None) -> walks.Pins:
    """A worker's pins on the node's walks folder; what it opens of other workers' pins goes in `opened`."""

    def other_view(folder):
        (opened if opened is not None else []).append(folder)
        return empty_view()

    return walks.Pins(root, opener=lambda folder: folder, other_view=other_view)


def pinned(pins: walks.Pins, index: Index, at) -> tuple[str, IndexView]:
    return pins.start(index.live, at, ttl=300, reuse=60)


def test_walks_on_one_generation_share_one_pin(tmp_path, index):
    pins, t0 = pins_of(tmp_path / "walks"), now_utc()
    first = pinned(pins, index, t0)
    assert pinned(pins, index, t0 + timedelta(minutes=4)) == first  # past the minute of sharing
    assert pinned(pins, index, t0 + timedelta(minutes=8)) == first  # kept by the walk at 4
    assert len(pins) == 1


def test_a_walk_within_a_minute_of_the_newest_pin_shares_it_and_after_pins_the_live_one(tmp_path, index):
    pins, t0 = pins_of(tmp_path / "walks"), now_utc()
    pin_id, old = pinned(pins, index, t0)
    index.next()
    assert pinned(pins, index, t0 + timedelta(seconds=59)) == (pin_id, old)
    later_id, later = pinned(pins, index, t0 + timedelta(seconds=61))
    assert later_id != pin_id and later is not old
    assert len(pins) == 2


def test_a_pin_lasts_five_minutes_after_the_last_walk_started_on_it(tmp_path, index):
    pins, t0 = pins_of(tmp_path / "walks"), now_utc()
    pin_id, view = pinned(pins, index, t0)
    pinned(pins, index, t0 + timedelta(seconds=200))
    assert pins.view(pin_id, t0 + timedelta(seconds=499)) is view
    assert pins.view(pin_id, t0 + timedelta(seconds=500)) is None
    assert len(pins) == 0 and not (tmp_path / "walks" / pin_id).exists()


def test_however_many_walks_start_at_most_six_generations_are_pinned(tmp_path, index):
    pins, t0 = pins_of(tmp_path / "walks"), now_utc()
    most = 0
    for second in range(0, 1800, 5):  # a new generation and a new walk every five seconds
        index.next()
        pinned(pins, index, t0 + timedelta(seconds=second))
        most = max(most, len(pins))
    assert most == 6  # 300 / 60 + 1


def test_another_worker_of_the_node_opens_the_pin_after_its_files_are_cleaned_away(tmp_path, index):
    root, t0 = tmp_path / "walks", now_utc()
    pin_id, _ = pinned(pins_of(root), index, t0)
    index.next()  # the pinned generation's own files are gone from the build folder
    opened: list = []
    assert pins_of(root, opened).view(pin_id, t0 + timedelta(seconds=10)) is not None
    assert opened == [root / pin_id]
    assert sorted(p.name for p in opened[0].iterdir()) == ["MAIN_s1.seg", "_MAIN_1.toc", "pin.json"]
    assert (opened[0] / "MAIN_s1.seg").read_text() == "segment"


def test_a_worker_shares_the_pin_another_worker_made(tmp_path, index):
    root, t0 = tmp_path / "walks", now_utc()
    pin_id, _ = pinned(pins_of(root), index, t0)
    index.next()
    assert pinned(pins_of(root), index, t0 + timedelta(seconds=30))[0] == pin_id


def test_another_node_does_not_hold_the_pin(tmp_path, index):
    pin_id, _ = pinned(pins_of(tmp_path / "walks"), index, now_utc())
    assert pins_of(tmp_path / "elsewhere").view(pin_id, now_utc()) is None


@pytest.mark.parametrize("pin_id", ["../ix-1", "..", "", "a" * 17, "pin.json", "x/../../etc"])
def test_a_pin_id_that_is_not_one_never_reaches_the_disk(tmp_path, index, pin_id):
    opened: list = []
    assert pins_of(tmp_path / "search", opened).view(pin_id, now_utc()) is None
    assert opened == []


def test_a_generation_cleaned_away_while_it_is_linked_gives_way_to_the_next(tmp_path, index):
    calls = []

    def live():
        calls.append(1)
        generation = index.live()
        if len(calls) == 1:
            index.next()  # committed between reading the generation and linking its files
        return generation

    pin_id, _ = walks.Pins(tmp_path / "walks", lambda f: f, lambda s: empty_view()).start(
        live, now_utc(), 300, 60
    )
    assert len(calls) == 2
    assert (tmp_path / "walks" / pin_id / "_MAIN_2.toc").exists()


def test_a_build_folder_swapped_away_while_it_is_linked_gives_way_to_the_next(tmp_path, index):
    gone = walks.Generation(tmp_path / "search" / "ix-0", 1, ("MAIN_s1",), index.view)
    answers = iter([gone, index.live()])
    pin_id, _ = walks.Pins(tmp_path / "walks", lambda f: f, lambda s: empty_view()).start(
        lambda: next(answers), now_utc(), 300, 60
    )
    assert (tmp_path / "walks" / pin_id / "_MAIN_1.toc").exists()


def test_an_index_that_changes_at_every_attempt_refuses_the_walk_for_now(tmp_path, index):
    def live():
        generation = index.live()
        index.next()
        return generation

    with pytest.raises(RuleError) as refused:
        walks.Pins(tmp_path / "walks", lambda f: f, lambda s: empty_view()).start(live, now_utc(), 300, 60)
    assert refused.value.status == 503 and refused.value.retry_after == 5
    assert not list((tmp_path / "walks").iterdir())  # no half-linked folder left


def test_a_walk_continues_on_another_worker_of_the_node_while_profiles_change(make_app, factory, eight):
    first, second = make_app(), make_app()  # two workers: one data folder, a search node each
    a, b = first.test_client(), second.test_client()
    _, answer = walk(a, q="knots", per_page=3)
    seen = ids_of(answer)
    for p in eight:
        factory.practitioner(user=p.user, display_name="Someone else", approach="Nothing of the kind.")
    while answer["next_cursor"]:
        response = step(b, answer["next_cursor"])
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        seen += ids_of(answer)
    assert sorted(seen) == sorted(p.id for p in eight)
    assert found(b, q="knots")["total"] == 0


def test_a_pin_keeps_no_search_cache_of_the_live_view(app, client, eight):
    found(client, q="knots trigger")
    live = node().view()
    assert live._postings
    with app.app_context():
        _, kept = node().pins.start(node().generation, now_utc(), 300, 60)
    assert kept is not live and not kept._postings
    assert kept.head is live.head and kept.leaves is live.leaves


def test_a_walk_runs_on_the_clock_it_started_on(client, factory, clock):
    # Three who confirmed they accept clients 30 days less a minute ago: their "accepting" lapses
    # during the walk, and the walk still counts them, as its first page did.
    for _ in range(3):
        person(factory, approach="Knots.", accepting_clients=True)
    clock.advance(days=30, seconds=-60)
    _, answer = walk(client, q="knots", accepting="true", per_page=2)
    assert answer["total"] == 3
    clock.advance(seconds=120)
    rest = step(client, answer["next_cursor"]).get_json()
    assert rest["total"] == 3 and len(rest["results"]) == 1
    assert found(client, q="knots", accepting="true")["total"] == 0
