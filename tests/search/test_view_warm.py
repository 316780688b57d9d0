"""A new index's view scores its commonest words in the background; a view after a write does not.

At a million documents the first search of a common word joined and scored most of the index's
postings. A process's first view (or a rebuild's) of at least WARM_VIEW_DOCS documents does that
work up front, for the commonest words, within a share of the view's budget.
"""

import numpy as np
import pytest

from directory.search import arrays
from directory.search.node import node
from directory.search.record import TEXT

APPROACHES = ("massage knots jaw", "massage knots stiffness", "massage knots", "massage alone")


@pytest.fixture
def started(app, factory, monkeypatch):
    """The views whose warm-up was started, by the count of their documents."""
    for approach in APPROACHES:
        factory.practitioner(approach=approach)
    seen: list[int] = []
    monkeypatch.setattr(arrays, "warm_commonest", lambda view: seen.append(view.doc_count))
    return seen


def fresh_view():
    node().views = arrays.ViewCache()  # as a new process has
    return node().ready_view(wait_seconds=60)


@pytest.mark.parametrize(("threshold", "warmed"), [(len(APPROACHES), True), (len(APPROACHES) + 1, False)])
def test_a_new_index_of_enough_documents_is_warmed(started, monkeypatch, threshold, warmed):
    monkeypatch.setattr(arrays, "WARM_VIEW_DOCS", threshold)
    assert fresh_view().doc_count == len(APPROACHES)
    assert started == ([len(APPROACHES)] if warmed else [])


def test_a_view_after_a_write_is_not_warmed(started, factory, monkeypatch):
    monkeypatch.setattr(arrays, "WARM_VIEW_DOCS", 1)
    fresh_view()
    factory.practitioner(approach="massage again")
    assert node().ready_view(wait_seconds=60).doc_count == len(APPROACHES) + 1
    assert started == [len(APPROACHES)]  # the first view only: the second shares its segments


def test_the_commonest_words_are_scored_as_a_search_would_score_them(app, factory, monkeypatch):
    monkeypatch.setattr(arrays, "WARM_SEGMENT_DOCS", 1)  # the segments count their words
    for name, approach in zip(("Ann", "Bea", "Cy", "Di"), APPROACHES, strict=True):
        factory.practitioner(display_name=name, approach=approach)
    view = fresh_view()
    counts = {term: len(view.postings(TEXT, term)[0]) for term in ("massag", "knot", "jaw")}
    assert counts == {"massag": 4, "knot": 3, "jaw": 1}
    # Room for the two commonest words' arrays (16 bytes a posting, counted as the segments hold
    # them: a profile saved twice is in one segment live and in another deleted), not the third's.
    held = {t: sum(seg.text_counts().get(t, 0) for _, _, seg in view.leaves) for t in counts}
    assert held["massag"] > held["knot"] > held["jaw"]  # and every other word is in one document
    view._postings.budget = int(
        16 * (held["massag"] + held["knot"] + held["jaw"] - 1) / arrays.WARM_VIEW_SHARE
    )
    assert arrays.warm_commonest(view) == ["massag", "knot"]
    cold = fresh_view()
    for term in ("massag", "knot"):
        ids, scores = view._postings.get(("bm25", TEXT, term))
        cold_ids, cold_scores = cold.bm25(TEXT, term)
        assert np.array_equal(ids, cold_ids) and np.allclose(scores, cold_scores)
    assert view._postings.get(("bm25", TEXT, "jaw")) is None


def test_warming_waits_for_the_segments_and_gives_up_at_its_deadline(app, factory):
    factory.practitioner(approach="massage")
    view = fresh_view()
    for _, _, seg in view.leaves:
        seg.warmed.clear()  # as if still reading its postings
    assert arrays.warm_commonest(view, wait_seconds=0.05) == []
