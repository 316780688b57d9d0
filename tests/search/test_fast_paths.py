"""The ways a search saves time give the answers of the plain ways: facet counts by byte histogram,
text scored over every document or gathered onto a few, cards kept per index document, ratings
for a page of cards in one statement, the embedded database read through a memory map."""

import struct

import numpy as np
import pytest
import sqlalchemy as sa

from directory.extensions import SQLITE_MMAP_BYTES
from directory.reviews.service import ratings
from directory.search import badges, engine, present
from directory.search.arrays import (
    VIEW_CACHE_BYTES,
    VIEW_CACHE_BYTES_PER_DOC,
    ArrayCache,
    IndexView,
    bit_counts,
    view_cache_budget,
)
from directory.search.node import node
from directory.search.schemas import ResultSchema, SearchLocationSchema, SearchResponseSchema
from tests.search.ram_index import ANALYZER, facts, view_of
from tests.search.test_query_inputs import found, ids_of, person


@pytest.mark.parametrize("width", [1, 7, 8, 9, 36, 64, 70])
def test_bit_counts_count_each_bit_as_a_plain_count_does(width):
    rng = np.random.default_rng(width)
    nbytes = (width + 7) // 8
    rows = rng.integers(0, 256, size=(500, nbytes), dtype=np.uint8)
    rows[:, -1] &= np.uint8((1 << (width - 8 * (nbytes - 1))) - 1)  # no bit past the width
    plain = [int(np.count_nonzero(rows[:, b // 8] & (1 << (b % 8)))) for b in range(width)]
    assert bit_counts(rows, width) == plain


def test_bit_counts_of_no_rows_are_zeros():
    assert bit_counts(np.zeros((0, 2), np.uint8), 12) == [0] * 12


def test_facet_bits_mark_each_document_holding_the_term(monkeypatch):
    view = view_of(
        facts(1, "a", slugs=["deep-tissue"], languages=["en"]),
        facts(2, "b", slugs=["deep-tissue", "cupping"], languages=["es"]),
        facts(3, "c", languages=["en", "es"]),
    )
    values = (("vocab", "deep-tissue"), ("vocab", "cupping"), ("lang", "en"), ("lang", "es"))
    bits = view.facet_bits(values)
    pids = view.head["pid"]
    held = {
        int(pids[d]): [v for b, v in enumerate(values) if bits[d, b // 8] & (1 << (b % 8))] for d in range(3)
    }
    assert held == {
        1: [values[0], values[2]],
        2: [values[0], values[1], values[3]],
        3: [values[2], values[3]],
    }


PEOPLE = [
    facts(1, "knots knots shoulder", slugs=["trigger-point-therapy"]),
    facts(2, "shoulder pain and knots"),
    facts(3, "deep tissue work for the shoulder"),
    facts(4, "deep work, tissue elsewhere"),
    facts(5, "nothing of the kind"),
    *[facts(pid, f"filler text {pid}") for pid in range(6, 30)],
]


@pytest.mark.parametrize("halving", [0, 10**9], ids=["binary search", "table of places"])
@pytest.mark.parametrize("q", ["knots", "shoulder knots", "deep tissue", "knots deep tissue", "unknownword"])
def test_text_over_a_few_candidates_scores_as_over_every_document(q, halving, monkeypatch):
    # A narrow search finds its candidates among the postings either way (engine.SEARCH_BY_HALVING).
    monkeypatch.setattr(engine, "SEARCH_BY_HALVING", halving)
    view = view_of(*PEOPLE)
    concepts = engine.plan(q, ANALYZER)
    everyone = np.flatnonzero(view.alive)
    few = everyone[[0, 2, 3]]  # under a quarter of the index: gathered onto them
    assert len(few) * 4 < len(view.alive) <= len(everyone) * 4  # one narrow, one broad
    masks_all, score_all, broad = engine._text(view, concepts, everyone)
    masks_few, score_few, narrow = engine._text(view, concepts, few)
    assert (broad, narrow) == (True, False)
    # The broad answer is over every document, the narrow one over its candidates.
    assert len(score_all) == len(view.alive) and len(score_few) == len(few)
    assert np.allclose(score_few, score_all[few])
    for m_all, m_few in zip(masks_all, masks_few, strict=True):
        assert m_few.tolist() == m_all[few].tolist()
    assert score_all.any() == (q != "unknownword")


def test_a_card_shown_before_is_not_read_again_until_its_profile_changes(client, factory, monkeypatch):
    people = [person(factory, display_name=f"Knot person {i}", approach="Knots.") for i in range(3)]
    read: list[list[int]] = []
    load = present._load
    monkeypatch.setattr(present, "_load", lambda pids: read.append(sorted(pids)) or load(pids))
    assert sorted(ids_of(found(client, q="knots"))) == sorted(p.id for p in people)
    assert found(client, q="knots")["results"][0]["display_name"].startswith("Knot person")
    assert read == [sorted(p.id for p in people), []]  # the second page read no card
    factory.practitioner(user=people[0].user, display_name="Renamed Knot", approach="Knots still.")
    names = {r["id"]: r["display_name"] for r in found(client, q="knots")["results"]}
    assert names[people[0].id] == "Renamed Knot"
    assert read[-1] == [people[0].id]  # only the changed profile, a new document, was read


def test_the_card_cache_lets_the_least_recently_shown_go_first():
    cache = present.CardCache(size=2)
    a, b, c = (present.Card(i, f"n{i}", "", "") for i in range(3))
    cache.put(("s", 0), a)
    cache.put(("s", 1), b)
    assert cache.get(("s", 0)) is a  # now the most recent
    cache.put(("s", 2), c)
    assert cache.get(("s", 1)) is None and cache.get(("s", 0)) is a and cache.get(("s", 2)) is c
    assert len(cache) == 2


def test_badges_and_ratings_are_read_for_every_page_not_kept(client, factory):
    p = person(factory, approach="Knots.")
    assert found(client, q="knots")["results"][0]["review_count"] == 0
    author = factory.user("client")
    written = client.post(
        f"/api/v1/practitioners/{p.id}/reviews",
        json={"rating": 4, "body": "Sorted out my shoulder knots in two sessions.", "author_name": "Sam"},
        headers=factory.headers(author),
    )
    assert written.status_code == 201
    card = found(client, q="knots")["results"][0]
    assert (card["review_count"], card["rating"]) == (1, 4.0)


def test_the_page_reads_the_ratings_the_profile_shows(client, factory):
    people = [person(factory, approach="Knots.") for _ in range(3)]
    for stars, who in ((5, 0), (2, 0), (4, 0), (3, 1)):
        author = factory.user("client")
        written = client.post(
            f"/api/v1/practitioners/{people[who].id}/reviews",
            json={
                "rating": stars,
                "body": "Sorted out my shoulder knots in two sessions.",
                "author_name": "Sam",
            },
            headers=factory.headers(author),
        )
        assert written.status_code == 201
    ids = [p.id for p in people]
    full, live = ratings(ids), badges.for_practitioners(ids)
    assert {pid: live[pid]["rating"] for pid in ids} == {
        pid: {"average": full[pid]["average"], "count": full[pid]["count"]} for pid in ids
    }
    assert live[ids[0]]["rating"] == {"average": 3.67, "count": 3} and live[ids[2]]["rating"]["count"] == 0


def test_a_practitioner_gone_has_no_badges_and_no_card(client, factory):
    kept = person(factory, approach="Knots.")
    assert badges.for_practitioners([kept.id, 999_999]) == {
        kept.id: badges.for_practitioners([kept.id])[kept.id]
    }


def test_the_embedded_database_is_read_through_a_memory_map(tmp_path):
    engine_ = sa.create_engine(f"sqlite:///{tmp_path / 'embedded.db'}")
    with engine_.connect() as connection:
        assert connection.execute(sa.text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES
    engine_.dispose()


def runs_of(monkeypatch) -> list[str | None]:
    """The q of each engine run, from now on."""
    asked: list[str | None] = []
    run = engine.run
    monkeypatch.setattr(
        engine, "run", lambda view, query, *rest: asked.append(query.q) or run(view, query, *rest)
    )
    return asked


def test_a_misspelt_query_whose_correction_matches_runs_once(client, factory, monkeypatch):
    person(factory, approach="Sciatica, shoulder tension and stiffness; gentle pressure.")
    found(client, q="warm the index")
    asked = runs_of(monkeypatch)
    assert found(client, q="sciatcia")["showing_results_for"] == "sciatica"
    assert asked == ["sciatica"]


def test_a_correction_without_full_matches_is_run_before_the_typed_query(client, factory, monkeypatch):
    person(factory, approach="Shoulder work.")
    person(factory, approach="Tension in the calves.")
    found(client, q="warm the index")
    asked = runs_of(monkeypatch)
    assert found(client, q="shouldr tension")["showing_results_for"] is None
    assert asked == ["shoulder tension", "shouldr tension"]
    asked.clear()
    found(client, q="shouldr tension", as_typed="true")
    assert asked == ["shouldr tension"]


def test_a_view_keeps_postings_within_its_budget_the_least_recently_used_going_first():
    cache = ArrayCache(budget=250)
    arrays = {k: (np.zeros(25, np.int32), np.zeros(0, np.float32)) for k in "abc"}  # 100 bytes each
    cache.put(("a",), arrays["a"])
    cache.put(("b",), arrays["b"])
    assert cache.get(("a",)) is arrays["a"]  # now the most recent
    cache.put(("c",), arrays["c"])
    assert cache.get(("b",)) is None and cache.get(("a",)) is arrays["a"] and cache.get(("c",)) is arrays["c"]
    assert (len(cache), cache.bytes) == (2, 200)


def test_a_term_larger_than_the_budget_is_still_kept_alone():
    cache = ArrayCache(budget=10)
    big = (np.zeros(100, np.int32), np.zeros(100, np.float32))
    cache.put(("big",), big)
    assert cache.get(("big",)) is big and len(cache) == 1


def test_the_search_answer_holds_exactly_what_its_schema_documents(client, factory):
    p = person(factory, approach="Knots.")
    factory.refresh(p)
    body = found(client, q="knots", near="30.2672,-97.7431")
    assert set(body) == set(SearchResponseSchema().fields)
    assert set(body["location"]) == set(SearchLocationSchema().fields)
    (card,) = body["results"]
    assert set(card) == set(ResultSchema().fields)
    assert SearchResponseSchema().dump(body) == body  # what the schema would have sent


def test_an_index_damaged_after_its_check_is_answered_from_the_database(client, factory, monkeypatch):
    p = person(factory, approach="Knots.")
    found(client, q="warm the index")

    def damaged(self, fieldname, term):
        raise struct.error("unpack requires a buffer of 12 bytes")  # a segment cut short mid-read

    monkeypatch.setattr(IndexView, "postings", damaged)
    response = client.get("/api/v1/search", query_string={"q": "knots"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["degraded"] is True and ids_of(body) == [p.id]


def test_a_walk_whose_generation_is_damaged_asks_to_start_again(client, factory, monkeypatch):
    for _ in range(3):
        person(factory, approach="Knots.")
    first = found(client, q="knots", walk="true", per_page=1)
    monkeypatch.setattr(IndexView, "postings", lambda self, f, t: (_ for _ in ()).throw(struct.error("cut")))
    response = client.get("/api/v1/search", query_string={"cursor": first["next_cursor"]})
    assert response.status_code == 410 and "cursor" in response.get_json()["errors"]


def test_arrays_that_fill_the_budget_exactly_are_all_kept():
    cache = ArrayCache(budget=200)
    for key in "ab":
        cache.put((key,), (np.zeros(25, np.int32), np.zeros(0, np.float32)))  # 100 bytes each
    assert len(cache) == 2 and cache.bytes == 200


def test_a_new_generation_shares_what_its_unchanged_segments_hold(client, factory):
    """After a write, the new generation's view takes the unchanged segments' arrays and facet bits as
    they are (the same objects, not rebuilt), and still counts the changed profile once, as it is now."""
    people = [
        person(factory, display_name=f"Shared {i}", approach="Knots.", techniques=["deep-tissue"])
        for i in range(3)
    ]
    facets = found(client, q="knots")["facets"]["technique"]
    assert (facets["deep-tissue"], facets["trigger-point-therapy"]) == (3, 0)
    before = node().views.view(node().searcher())
    bits = {id(seg): seg._bits[1] for _, _, seg in before.leaves if seg._bits is not None}
    columns = {id(seg): seg.columns["pid"] for _, _, seg in before.leaves}
    assert bits  # the first search made them

    factory.practitioner(
        user=people[0].user, display_name="Shared 0", approach="Knots.", techniques=["trigger-point-therapy"]
    )
    facets = found(client, q="knots")["facets"]["technique"]
    assert (facets["deep-tissue"], facets["trigger-point-therapy"]) == (2, 1)
    after = node().views.view(node().searcher())
    assert after is not before
    kept = [seg for _, _, seg in after.leaves if id(seg) in columns]
    assert kept, "the write's generation shares no segment with the one before"
    for seg in kept:
        assert seg.columns["pid"] is columns[id(seg)]
        assert seg._bits[1] is bits[id(seg)]


def test_a_larger_index_keeps_more_of_its_postings():
    assert (
        view_cache_budget(10_000) == VIEW_CACHE_BYTES
    )  # the floor, as at 100,000 (the memory target's size)
    assert view_cache_budget(1_000_000) == VIEW_CACHE_BYTES_PER_DOC * 1_000_000 > VIEW_CACHE_BYTES
    assert view_of(*PEOPLE)._postings.budget == VIEW_CACHE_BYTES
