"""BM25 as the engine computes it, against values worked out by hand.

    score(term, doc) = idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · dl / avgdl))
    idf = ln(1 + (N − n + 0.5) / (n + 0.5)),  k1 = 1.2, b = 0.75

N documents, n of them holding the term, tf its count in the document, dl the document's length in
terms and avgdl the mean length. The constants are written out here, not imported, so a changed
constant in the engine fails these tests.
"""

import math

import pytest

from tests.search.ram_index import facts, relevance, run, view_of

K1, B = 1.2, 0.75


def idf(n_docs: int, holding: int) -> float:
    return math.log(1 + (n_docs - holding + 0.5) / (holding + 0.5))


def scores(view, stem: str) -> dict[int, float]:
    ids, weights = view.bm25("text", stem)
    pids = view.head["pid"][ids]
    return dict(zip(pids.tolist(), weights.tolist(), strict=True))


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # Every document one term long, so tf · (k1 + 1) / (tf + k1) = 1 and the score is the idf.
        (["alpha", "alpha", "beta", "gamma"], math.log(2)),  # ln(1 + 2.5 / 2.5)
        (["alpha", "beta", "gamma", "delta"], math.log(10 / 3)),  # ln(1 + 3.5 / 1.5)
        (["alpha", "alpha", "alpha", "beta"], math.log(1 + 1.5 / 3.5)),
        (["alpha", "alpha", "alpha", "alpha"], math.log(1 + 0.5 / 4.5)),  # in every document: small, not 0
    ],
)
def test_idf_is_the_rarer_the_higher(texts, expected):
    view = view_of(*(facts(i + 1, text) for i, text in enumerate(texts)))
    found = scores(view, "alpha")
    assert len(found) == texts.count("alpha")
    assert all(score == pytest.approx(expected, rel=1e-6) for score in found.values())


def test_repeating_a_word_saturates():
    # All four documents two terms long (dl = avgdl = 2); "alpha" in two of them (idf = ln 2).
    view = view_of(
        facts(1, "alpha alpha"), facts(2, "alpha beta"), facts(3, "gamma delta"), facts(4, "eta zeta")
    )
    found = scores(view, "alpha")
    assert found[2] == pytest.approx(math.log(2), rel=1e-6)  # tf 1: 2.2 / 2.2
    assert found[1] == pytest.approx(math.log(2) * 2 * (K1 + 1) / (2 + K1), rel=1e-6)  # tf 2: ×1.375, not ×2


def test_a_longer_document_scores_a_word_lower():
    # Lengths 1, 3, 1, 3: avgdl = 2; "alpha" once in a short and once in a long document.
    view = view_of(
        facts(1, "alpha"), facts(2, "alpha beta gamma"), facts(3, "delta"), facts(4, "eta zeta theta")
    )
    assert view.avgdl == 2
    found = scores(view, "alpha")
    assert found[1] == pytest.approx(math.log(2) * (K1 + 1) / (1 + K1 * (1 - B + B * 1 / 2)), rel=1e-6)
    assert found[2] == pytest.approx(math.log(2) * (K1 + 1) / (1 + K1 * (1 - B + B * 3 / 2)), rel=1e-6)


def test_profiles_without_text_do_not_shrink_the_average_length_below_one_term():
    # Mean length 1/4 here, taken as 1: the word's one document scores as if of average length.
    view = view_of(facts(1, "alpha"), facts(2), facts(3), facts(4))
    assert view.avgdl == 1
    assert scores(view, "alpha")[1] == pytest.approx(
        math.log(1 + 3.5 / 1.5) * (K1 + 1) / (1 + K1 * (1 - B + B * 1 / 1)), rel=1e-6
    )


def test_stop_words_count_neither_as_matches_nor_towards_length():
    view = view_of(facts(1, "the alpha and the"), facts(2, "beta"))
    assert view.head["dl"].tolist() == [1, 1]
    assert scores(view, "alpha")[1] == pytest.approx(math.log(1 + 1.5 / 1.5), rel=1e-6)


@pytest.mark.parametrize(
    "extra",
    [
        {"words": {"alpha", "omega", "sigma", "kappa"}},  # spelling words are not a practitioner
        {"deleted": (3,)},  # nor is a practitioner deleted since
    ],
)
def test_n_and_the_mean_length_are_over_listed_practitioners_only(extra):
    people = [facts(1, "alpha"), facts(2, "beta gamma delta")]
    if "deleted" in extra:
        people.append(facts(3, "alpha epsilon zeta eta theta iota kappa"))
    view = view_of(*people, **extra)
    assert (view.doc_count, view.avgdl) == (2, 2)
    assert scores(view, "alpha") == {
        1: pytest.approx(math.log(1 + 1.5 / 1.5) * (K1 + 1) / (1 + K1 * (1 - B + B / 2)), rel=1e-6)
    }


def test_a_synonym_hit_counts_like_a_plain_word_of_the_same_rarity():
    """'pnf' in a query also finds profiles listing PNF stretching: that hit scores SLUG_WEIGHT (1) · idf
    of the slug, here the same as the word typed in a one-word profile, so both rank alike."""
    view = view_of(
        facts(1, "alpha", slugs=["pnf-stretching"]),  # the slug, not the word
        facts(2, "pnf"),  # the word, not the slug
        facts(3, "beta"),
        facts(4, "gamma"),
    )
    found = relevance(run(view, q="pnf"))
    assert found == {1: pytest.approx(0.55), 2: pytest.approx(0.55)}


def test_a_word_and_its_synonym_in_one_profile_add_up():
    view = view_of(
        facts(1, "pnf", slugs=["pnf-stretching"]), facts(2, "pnf"), facts(3, "beta"), facts(4, "gamma")
    )
    # Profile 1: word (idf over n=2: ln 2) + slug (n=1: ln(10/3)); profile 2: the word alone.
    both = math.log(2) + math.log(10 / 3)
    found = relevance(run(view, q="pnf"))
    assert found[1] == pytest.approx(0.55)
    assert found[2] == pytest.approx(0.55 * math.log(2) / both, rel=1e-6)
