"""The ranking formula, one part at a time, against values worked out by hand:

    relevance = 0.55 · coverage · text / best text + 0.15 · verified + 0.15 · rating / 5 + 0.15 · proximity

Each test isolates one part (the others zero), so a changed weight or condition fails its own test.
"""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from directory.search.engine import _page
from tests.search.ram_index import NOW, facts, order, relevance, run, view_of

TODAY = NOW.date()
KM_PER_DEGREE = math.pi / 180 * 6371.0088  # along a meridian, on the mean Earth radius


def fillers(*pids: int) -> list:
    """Profiles that match nothing asked below (they make N larger than the matches)."""
    return [facts(pid, f"filler{pid}") for pid in pids]


def test_the_best_text_match_scores_the_full_text_weight_and_the_rest_in_proportion():
    view = view_of(
        facts(1, "alpha alpha"), facts(2, "alpha beta"), facts(3, "gamma delta"), facts(4, "eta zeta")
    )
    found = relevance(run(view, q="alpha"))
    assert found[1] == pytest.approx(0.55)
    # tf 1 against tf 2 at the same length: (2.2 / 2.2) / (2 · 2.2 / 3.2) of the best.
    assert found[2] == pytest.approx(0.55 / (2 * 2.2 / 3.2), rel=1e-6)
    assert order(run(view, q="alpha")) == [1, 2]


def test_a_relaxed_match_counts_the_share_of_concepts_matched():
    # No profile has all three words: each is shown with the share it has.
    view = view_of(facts(1, "alpha beta"), facts(2, "gamma"), *fillers(3, 4, 5, 6))
    outcome = run(view, q="alpha beta gamma")
    assert outcome.relaxed is True
    found = relevance(outcome)
    # N = 6, each word in one profile, lengths 2, 1, 1, 1, 1, 1: avgdl = 7/6.
    text_1 = 2 * math.log(1 + 5.5 / 1.5) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / (7 / 6)))
    text_2 = math.log(1 + 5.5 / 1.5) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / (7 / 6)))
    assert found[1] == pytest.approx(0.55 * 2 / 3, rel=1e-6)  # the best text, 2 of 3 concepts
    assert found[2] == pytest.approx(0.55 * 1 / 3 * text_2 / text_1, rel=1e-6)


def test_two_words_are_relaxed_too():
    view = view_of(facts(1, "alpha"), facts(2, "beta"), *fillers(3, 4))
    outcome = run(view, q="alpha beta")
    assert (outcome.relaxed, order(outcome)) == (True, [1, 2])
    assert relevance(outcome) == {1: pytest.approx(0.55 / 2), 2: pytest.approx(0.55 / 2)}


def test_a_known_phrase_needs_all_its_words():
    # "desk job" is one concept (a phrase with synonyms): "desk" alone does not match it.
    view = view_of(facts(1, "desk job"), facts(2, "desk"), facts(3, "job"), *fillers(4, 5))
    outcome = run(view, q="desk job")
    assert [c.label for c in outcome.concepts] == ["desk job"]
    assert (outcome.relaxed, order(outcome)) == (False, [1])


def test_a_phrase_scores_the_sum_of_its_words():
    # Mirror images: "desk" twice and "job" once against the other way round, both words in two of
    # four profiles. Counting only one of the words would put one of them ahead.
    view = view_of(facts(1, "desk desk job"), facts(2, "desk job job"), *fillers(3, 4))
    outcome = run(view, q="desk job")
    assert [c.label for c in outcome.concepts] == ["desk job"]
    assert relevance(outcome) == {1: pytest.approx(0.55), 2: pytest.approx(0.55)}


def test_a_profile_outside_the_radius_lends_its_match_to_no_one_inside():
    # Two inside the radius (only one says "alpha"), one far away that does: the far one is left out
    # and the near one that does not say the word is not shown either.
    view = view_of(
        facts(1, "alpha", places=[(40.0, -75.0)]),
        facts(2, "gamma", places=[(40.05, -75.0)]),
        facts(3, "alpha", places=[(45.0, -75.0)]),
    )
    outcome = run(view, q="alpha", lat=40.0, lon=-75.0, radius_km=25.0)
    assert (outcome.total, order(outcome)) == (1, [1])
    assert relevance(outcome)[1] == pytest.approx(0.55 + 0.15)


def test_when_one_profile_matches_every_concept_only_full_matches_are_shown():
    view = view_of(facts(1, "alpha beta"), facts(2, "alpha"), *fillers(3, 4))
    outcome = run(view, q="alpha beta")
    assert (outcome.relaxed, order(outcome)) == (False, [1])
    assert relevance(outcome)[1] == pytest.approx(0.55)


def test_a_single_word_that_matches_nothing_is_not_relaxed_into_everything():
    view = view_of(facts(1, "alpha"), *fillers(2, 3))
    outcome = run(view, q="omega")
    assert (outcome.total, outcome.relaxed) == (0, False)


@pytest.mark.parametrize(
    ("verified_until", "weight"),
    [
        (TODAY, 0.15),  # the badge's last day still counts
        (TODAY + timedelta(days=1), 0.15),
        (date.max, 0.15),  # no expiry
        (TODAY - timedelta(days=1), 0.0),  # lapsed yesterday
        (None, 0.0),
    ],
)
def test_a_live_verified_credential_adds_its_weight(verified_until, weight):
    view = view_of(facts(1, "alpha", verified_until=verified_until), facts(2, "alpha"))
    found = relevance(run(view, q="alpha"))
    assert found[1] - found[2] == pytest.approx(weight)
    assert found[2] == pytest.approx(0.55)


@pytest.mark.parametrize(
    ("bayes", "weight"),
    [(0.0, 0.0), (2.5, 0.075), (4.0, 0.12), (5.0, 0.15), (7.5, 0.15)],  # never above its weight
)
def test_the_bayesian_rating_adds_its_share_of_five(bayes, weight):
    view = view_of(facts(1, "alpha", rating_bayes=bayes, rating_average=1.0, review_count=1))
    assert relevance(run(view, q="alpha"))[1] == pytest.approx(0.55 + weight, rel=1e-6)
    assert relevance(run(view))[1] == pytest.approx(weight, rel=1e-6)  # no words: rating and badge only


@pytest.mark.parametrize("north_deg", [0.0, 0.05, 0.1, 0.2])
def test_proximity_falls_linearly_from_the_point_to_the_radius(north_deg):
    view = view_of(facts(1, "alpha", places=[(40.0 + north_deg, -75.0)]))
    outcome = run(view, q="alpha", lat=40.0, lon=-75.0, radius_km=25.0)
    km = north_deg * KM_PER_DEGREE
    assert outcome.hits[0].distance_km == pytest.approx(km, abs=1e-6)
    assert outcome.hits[0].relevance == pytest.approx(0.55 + 0.15 * (1 - km / 25.0), rel=1e-6)


def test_proximity_counts_the_nearest_place():
    view = view_of(facts(1, "alpha", places=[(40.2, -75.0), (40.1, -75.0), (41.0, -75.0)]))
    hit = run(view, q="alpha", lat=40.0, lon=-75.0, radius_km=25.0).hits[0]
    assert hit.distance_km == pytest.approx(0.1 * KM_PER_DEGREE, abs=1e-6)


def test_every_part_together_is_the_sum_of_the_parts():
    view = view_of(
        facts(1, "alpha", verified_until=TODAY, rating_bayes=4.0, places=[(40.1, -75.0)]),
        facts(2, "alpha alpha beta", places=[(40.0, -75.0)]),
    )
    found = relevance(run(view, q="alpha", lat=40.0, lon=-75.0, radius_km=25.0))
    score_1 = 2.2 / (1 + 1.2 * (0.25 + 0.75 * 1 / 2))
    score_2 = 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 2))
    best = max(score_1, score_2)
    assert found[1] == pytest.approx(
        0.55 * score_1 / best + 0.15 + 0.15 * 4 / 5 + 0.15 * (1 - 0.1 * KM_PER_DEGREE / 25), rel=1e-6
    )
    assert found[2] == pytest.approx(0.55 * score_2 / best + 0.15, rel=1e-6)


# -- orders and ties -----------------------------------------------------------------------------


def test_equal_relevance_is_ordered_by_practitioner_id_on_every_page():
    view = view_of(*(facts(pid, "alpha") for pid in (9, 3, 7, 1, 5)))
    assert order(run(view, q="alpha")) == [1, 3, 5, 7, 9]
    pages = [order(run(view, q="alpha", page=page, per_page=2)) for page in (1, 2, 3)]
    assert pages == [[1, 3], [5, 7], [9]]


@pytest.mark.parametrize("per_page", [1, 3, 7, 10])
def test_pages_put_together_are_the_whole_order(per_page):
    # Forty ratings in a scrambled order of ids: each page is the next slice of the one full order,
    # however the engine picks a page's rows before sorting them.
    pids = [(i * 17) % 41 + 1 for i in range(40)]
    view = view_of(*(facts(pid, rating_bayes=((pid * 7) % 40) / 8.0) for pid in pids))
    whole = order(run(view, per_page=40))
    pages = [order(run(view, page=page, per_page=per_page)) for page in range(1, 40 // per_page + 2)]
    assert [pid for page in pages for pid in page] == whole
    assert whole == sorted(pids, key=lambda pid: (-((pid * 7) % 40), pid))


def test_without_words_or_a_place_the_order_is_by_bayesian_rating_then_id():
    view = view_of(
        facts(4, rating_bayes=3.0),
        facts(2, rating_bayes=4.5, rating_average=3.0),  # the Bayesian value decides, not the average
        facts(3, rating_bayes=3.0, rating_average=5.0),
        facts(1, rating_bayes=2.0),
    )
    outcome = run(view)
    assert (outcome.sort, order(outcome)) == ("rating", [2, 3, 4, 1])


def test_with_a_place_and_no_words_the_order_is_by_distance_then_id():
    view = view_of(
        facts(5, places=[(40.1, -75.0)]),
        facts(2, places=[(40.2, -75.0)]),
        facts(3, places=[(40.1, -75.0)]),
        facts(1, places=[(40.0, -75.0)], rating_bayes=5.0),
    )
    outcome = run(view, lat=40.0, lon=-75.0, radius_km=50.0)
    assert (outcome.sort, order(outcome)) == ("distance", [1, 3, 5, 2])


def test_with_words_the_order_is_by_relevance_unless_another_is_asked():
    view = view_of(
        facts(1, "alpha", places=[(40.2, -75.0)]),
        facts(2, "alpha alpha", places=[(40.1, -75.0)], rating_bayes=1.0),
        facts(3, "alpha beta", places=[(40.0, -75.0)], rating_bayes=5.0),
    )
    located = {"lat": 40.0, "lon": -75.0, "radius_km": 50.0}
    by_relevance = run(view, q="alpha", **located)
    assert by_relevance.sort == "relevance"
    found = relevance(by_relevance)
    assert order(by_relevance) == sorted(found, key=lambda pid: -found[pid])
    assert (
        run(view, q="alpha", sort="distance", **located).sort,
        order(run(view, q="alpha", sort="distance", **located)),
    ) == ("distance", [3, 2, 1])
    assert order(run(view, q="alpha", sort="rating", **located)) == [3, 2, 1]


@pytest.mark.parametrize("start, stop", [(0, 1), (0, 20), (20, 40), (980, 1000), (4990, 5000), (4999, 5005)])
def test_a_page_of_many_keys_is_that_slice_of_the_full_sort(start, stop):
    # Thousands of scrambled keys, where picking a page's rows before sorting them does not sort the
    # rest: every row of the page, its last included, is the one the full sort puts there.
    keys = np.random.default_rng(7).permutation(5000).astype(np.int64) * 3
    assert keys[_page(keys, start, stop)].tolist() == np.sort(keys)[start:stop].tolist()
