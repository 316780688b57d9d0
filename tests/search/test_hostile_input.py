"""Search input cannot exhaust a worker: what any profile holds or any query asks is bounded.

The bounds live in directory/search/spelling.py and engine.MAX_CONCEPTS. The numbers below are
written out, not read from those modules, so that moving a bound fails a test here. Profiles are
saved through the API and through the account page; searches go through the API and the search page.
Speed is the bench's business (bench/search/hostile.py), not these tests'.
"""

import random
import re
import string
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.support.levenshtein import damerau_levenshtein

from directory.search import arrays, documents, engine, present, spelling
from directory.search.node import node
from directory.search.synonyms import normalize
from tests.factories import signed_in
from tests.search.ram_index import facts

RNG_SEED = 9


def letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def distinct_words(count: int, size: int, seed: int = RNG_SEED) -> list[str]:
    rng, words = random.Random(seed), {}
    while len(words) < count:
        words.setdefault(letters(rng, size), None)
    return list(words)


LONG_WORD = letters(random.Random(RNG_SEED), 5000)
# What a profile can hold: 200 made-up words of 24 letters fill the 5,000 characters of an approach.
WORDS_24 = distinct_words(200, 24)
WORDS_8 = distinct_words(555, 8)


def saved(client, factory, app, how: str, **profile) -> None:
    """A practitioner saves `profile` through the API or through the account page."""
    user = factory.user("practitioner")
    body = {"display_name": f"Hostile {user.id}", "headline": "Gentle sciatica work", **profile}
    if how == "api":
        response = client.put("/api/v1/me/profile", json=body, headers=factory.headers(user))
        assert response.status_code == 200, response.get_json()
    else:
        response = signed_in(app, user).post("/account", data=body)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def search(client, how: str, **params):
    """(status, suggestion or None, result ids) through the API or the page."""
    if how == "api":
        response = client.get("/api/v1/search", query_string=params)
        body = response.get_json()
        if response.status_code != 200:
            return response.status_code, body, []
        assert not body["degraded"]
        return 200, body["suggestion"], [r["id"] for r in body["results"]]
    response = client.get("/", query_string=params)
    html = response.get_data(as_text=True)
    # The correction is offered ("Did you mean") or, when its results are shown, named.
    found = re.search(r"Did you mean <a [^>]*>([^<]*)</a>|Showing results for <strong>([^<]*)</strong>", html)
    ids = [int(i) for i in dict.fromkeys(re.findall(r'href="/practitioners/(\d+)"', html))]
    return response.status_code, (found.group(1) or found.group(2) if found else None), ids


def tables():
    """The live index's spelling tables, caught up and built (waited for)."""
    view = node().ready_view(10.0)
    return [seg.spelling(reader) for reader, _, seg in view.leaves]


def variants() -> int:
    return sum(len(t) for t in tables())


def vocabulary() -> set[str]:
    return set().union(*(t.words for t in tables()))


@pytest.fixture
def base(factory):
    """One ordinary profile, so that the index exists before the hostile ones arrive."""
    p = factory.practitioner(approach="Sciatica, shoulder tension and stiffness; gentle pressure.")
    assert variants() > 0
    return p


# -- the bounds themselves ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "allowed"),
    [
        ("ox", False),
        ("oak", True),
        ("abcdefghijklmnopqrstuvwx", True),  # 24 letters
        ("abcdefghijklmnopqrstuvwxy", False),  # 25
        ("naïve", True),
        ("don't", False),
        ("b12", False),
        ("マッサージ", True),
        ("マ" * 25, False),
    ],
)
def test_which_words_may_be_learnt_or_corrected(word, allowed):
    assert spelling.spellable(word) is allowed


@pytest.mark.parametrize(("size", "count"), [(3, 7), (8, 37), (24, 301), (25, 326), (500, 125_251)])
def test_a_word_has_at_most_so_many_variants(size, count):
    word = string.ascii_lowercase[:size] if size <= 26 else letters(random.Random(1), size)
    assert spelling.variant_count(word) == count
    assert len(spelling.deletes(word)) <= count


@pytest.mark.parametrize(
    ("text", "kept", "spent"),
    [
        (LONG_WORD, 0, 0),
        (" ".join(WORDS_24), 66, 66 * 301),  # 20,000 // 301
        (" ".join(WORDS_8), 540, 540 * 37),  # 20,000 // 37
        ("Gentle gentle GENTLE sciatica " * 100, 2, 22 + 37),
        (" ".join(WORDS_24[:66] + ["oak"] * 3 + WORDS_24[66:]), 67, 66 * 301 + 7),  # a short one still fits
    ],
    ids=["one 5,000-letter word", "200 words of 24 letters", "555 words of 8", "repeats", "short after"],
)
def test_one_profile_brings_at_most_20000_variants(text, kept, spent):
    words = documents.spelling_words(facts(1, text))
    assert len(words) == kept
    assert sum(spelling.variant_count(w) for w in words) == spent <= 20_000


def test_the_first_words_of_a_profile_are_the_ones_kept():
    words = documents.spelling_words(facts(1, "Robin Hale, gentle sciatica work. " + " ".join(WORDS_24)))
    assert {"robin", "hale", "gentle", "sciatica", "work"} <= words
    assert WORDS_24[0] in words and WORDS_24[-1] not in words


def test_a_table_leaves_out_words_an_older_index_learnt():
    table = arrays.SpellingTable(["sciatica", LONG_WORD, "x" * 25, "ox"])
    assert table.words == ["sciatica"] and len(table) == len(spelling.deletes("sciatica"))
    assert table.lookup(arrays.probe_hashes("sciatcia")) == {"sciatica"}
    assert table.lookup(arrays.probe_hashes("zebra")) == set()


@pytest.mark.parametrize(
    ("typed", "near", "far"),
    [
        ("sciatcia", True, True),  # two letters swapped
        ("sciatlca", True, True),  # one changed
        ("sciatca", True, True),  # one taken out
        ("sciaticas", True, True),  # one added
        ("sxiatixa", False, True),  # two changed
        ("sciati", False, True),  # two taken out
    ],
)
def test_words_one_edit_away_are_among_the_near_candidates(typed, near, far):
    table = arrays.SpellingTable(["sciatica", "shoulder", "oak"])
    probes = arrays.probe_hashes(typed)
    assert ("sciatica" in table.lookup(probes, within_one=True)) is near
    assert ("sciatica" in table.lookup(probes)) is far


def test_a_segment_vocabulary_is_read_whole_from_stored_words_or_term_by_term(base, factory, monkeypatch):
    factory.practitioner(approach=" ".join(WORDS_8[:50]))
    view = node().ready_view(10.0)
    assert any(WORDS_8[0] in seg._vocabulary(reader) for reader, _, seg in view.leaves)
    for reader, _, seg in view.leaves:
        whole = [t.decode() for t in reader.lexicon("words")]
        assert sorted(seg._vocabulary(reader)) == whole
        assert arrays._lexicon(reader, "words", threading.Lock(), chunk=3) == whole
        assert arrays._lexicon(reader, "words", threading.Lock(), chunk=len(whole)) == whole
        # An index written before the words were stored: term by term, to the same words.
        monkeypatch.setattr(reader, "stored_fields", lambda docnum: {"pid": "~words-1"})
        assert seg._vocabulary(reader) == whole


# -- hostile profiles cannot grow the vocabulary past the bounds --------------------------------
HOSTILE_PROFILES = [
    ("one 5,000-letter word", {"approach": LONG_WORD}, 0),
    ("200 made-up words of 24 letters", {"approach": " ".join(WORDS_24)}, 20_000),
    ("555 made-up words of 8 letters", {"approach": " ".join(WORDS_8)}, 20_000),
    ("a 5,000-character run of kana", {"approach": "マッサージ" * 1000}, 0),
    ("marks, emoji and controls", {"approach": ("\u0301\u200f\u202e😀💆\u200d♀️ ǅ " * 400)[:5000]}, 0),
]


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize(("name", "profile", "most"), HOSTILE_PROFILES, ids=[n for n, *_ in HOSTILE_PROFILES])
def test_a_hostile_profile_adds_a_bounded_vocabulary_and_search_still_works(
    app, client, factory, base, how, name, profile, most
):
    before = variants()
    saved(client, factory, app, how, **profile)
    # "Hostile", "gentle", "work" may be new words too: 29 + 22 + 11 variants at most.
    assert variants() - before <= most + 62
    assert all(len(w) <= 24 for w in vocabulary())
    for searched_by in ("api", "page"):
        status, suggestion, ids = search(client, searched_by, q="sciatcia")
        assert status == 200 and suggestion == "sciatica", (searched_by, suggestion)
        status, _, ids = search(client, searched_by, q="gentle sciatica")
        assert status == 200 and len(ids) == 2


def test_a_long_word_is_found_as_typed_but_never_suggested(client, factory, base):
    p = factory.practitioner(approach=LONG_WORD[:300])
    assert LONG_WORD[:300] not in vocabulary()
    assert search(client, "api", q=LONG_WORD[:300])[2] == [p.id]
    status, suggestion, ids = search(client, "api", q=LONG_WORD[:299] + "q")
    assert status == 200 and suggestion is None and ids == []


def test_many_hostile_profiles_add_at_most_20000_variants_each(app, client, factory, base):
    before = variants()
    for i in range(3):
        saved(client, factory, app, "api", approach=" ".join(distinct_words(200, 24, seed=i)))
    assert variants() - before <= 3 * (20_000 + 62)


# -- words at the bounds, through the API and the page ------------------------------------------
BOUNDS = [
    # (the profile's approach, the query, the suggestion expected)
    ("Works with an ox.", "ix", None),  # 2 letters: neither learnt nor corrected
    ("Oak oil, warm.", "oaj", "oak"),  # 3 letters: both
    ("Abcdefghijklmnopqrstuvwx method.", "abcdefghijklmnopqrstuvwz", "abcdefghijklmnopqrstuvwx"),  # 24
    ("Abcdefghijklmnopqrstuvwxy method.", "abcdefghijklmnopqrstuvwxz", None),  # 25
]


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize(("approach", "q", "expected"), BOUNDS, ids=[q for _, q, _ in BOUNDS])
def test_words_at_the_bounds(client, factory, how, approach, q, expected):
    factory.practitioner(approach=approach)
    status, suggestion, _ = search(client, how, q=q)
    assert status == 200 and suggestion == expected


NINE = ["shoulder", "tension", "stiffness", "gentle", "pressure", "sciatica", "lavender", "marble", "copper"]
NINE_TYPOS = ["shouldr", "tensoin", "stifness", "gentel", "presure", "sciatcia", "lavendr", "marbel", "coper"]


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize("typed", [7, 8, 9])
def test_at_most_8_words_of_a_query_are_corrected(client, factory, how, typed):
    factory.practitioner(approach=" ".join(NINE))
    status, suggestion, _ = search(client, how, q=" ".join(NINE_TYPOS[:typed]))
    assert status == 200
    corrected = suggestion.split()
    assert corrected[: min(typed, 8)] == NINE[: min(typed, 8)]
    assert corrected[8:] == NINE_TYPOS[8:typed]


def test_plan_keeps_each_concept_once_and_at_most_12():
    analyzer = documents.text_analyzer()
    assert [c.label for c in engine.plan("knots Knots KNOTS neck knots", analyzer)] == ["knots", "neck"]
    words = distinct_words(20, 6)
    assert [c.label for c in engine.plan(" ".join(words), analyzer)] == words[:12]


TWELVE = distinct_words(13, 7, seed=3)


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize(
    ("held", "typed", "relaxed"),
    [
        (12, 13, False),  # the 13th word is past the bound: not searched for, so not missed
        (11, 12, True),  # the 12th is within it: missing, so the answer is partial
    ],
)
def test_words_past_the_12th_are_not_searched_for(client, factory, how, held, typed, relaxed):
    p = factory.practitioner(approach=" ".join(TWELVE[:held]))
    q = " ".join(TWELVE[:typed])
    status, _, ids = search(client, how, q=q)
    assert status == 200 and ids == [p.id]
    if how == "api":
        assert client.get("/api/v1/search", query_string={"q": q}).get_json()["relaxed"] is relaxed


# -- hostile queries, through the API and the page ----------------------------------------------
_rng = random.Random(RNG_SEED)
HOSTILE_QUERIES = [
    ("500 random letters", letters(_rng, 500)),
    ("250 two-letter words", " ".join(letters(_rng, 2) for _ in range(166))[:500]),
    ("100 distinct 4-letter words", " ".join(distinct_words(100, 4))[:500]),
    ("20 words of 24 letters", " ".join(distinct_words(20, 24))[:500]),
    ("20 words of 25 letters", " ".join(distinct_words(19, 25))),
    ("30 misspellings", " ".join(NINE_TYPOS * 4)[:500]),
    ("one word 55 times", "sciatica " * 55),
    ("kana, emoji, marks", ("マッサージ😀\u0301\u200f ǅ " * 50)[:500]),
    ("500 characters of punctuation", "*?~^:\"'()[]{}" * 38 + "!"),
]


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize(("name", "q"), HOSTILE_QUERIES, ids=[n for n, _ in HOSTILE_QUERIES])
def test_a_hostile_query_is_answered(client, factory, base, how, name, q):
    assert len(q) <= 500
    status, suggestion, ids = search(client, how, q=q)
    assert status == 200
    assert suggestion is None or isinstance(suggestion, str)
    if name == "one word 55 times":
        assert ids == [base.id]
    # The spelling still works for whoever searches next.
    assert search(client, how, q="shouldr tension")[1] == "shoulder tension"


@pytest.mark.parametrize("how", ["api", "page"])
def test_a_query_over_500_characters_is_refused_cleanly(client, base, how):
    response = client.get("/api/v1/search" if how == "api" else "/", query_string={"q": "a" * 501})
    assert response.status_code == 422
    if how == "api":
        body = response.get_json()
        assert body["code"] == 422 and "q" in body["errors"] and body["message"]
    else:
        assert "Longer than maximum length 500" in response.get_data(as_text=True)


# -- a stream of unknown words leaves nothing behind --------------------------------------------
def cached_postings() -> int:
    view = node().ready_view(10.0)
    return len(view._postings) + sum(len(seg._postings) for _, _, seg in view.leaves)


@pytest.mark.parametrize("how", ["api", "page"])
@pytest.mark.parametrize("param", ["q", "technique"])
def test_unknown_words_are_not_kept(client, base, how, param):
    search(client, how, q="gentle")
    before = cached_postings()
    for word in distinct_words(100, 9):
        assert search(client, how, **{param: word})[0] == 200
    assert cached_postings() - before == 0


# -- the spelling table is built beside searches, never in their way ----------------------------
@pytest.fixture
def slow_tables(monkeypatch):
    """Spelling tables whose build waits until the test lets it go."""
    release = threading.Event()
    real = arrays.SpellingTable

    class Held(real):
        def __init__(self, words):
            release.wait(30)
            super().__init__(words)

    monkeypatch.setattr(arrays, "SpellingTable", Held)
    yield release
    release.set()


@pytest.mark.parametrize("how", ["api", "page"])
def test_a_search_answers_without_a_suggestion_while_the_table_is_built(
    app, client, factory, slow_tables, how
):
    p = factory.practitioner(approach="Sciatica, shoulder tension and stiffness; gentle pressure.")
    app.config["SEARCH_SPELLING_WAIT_SECONDS"] = 0.0
    # Answered (the word it knows matches), only without the suggestion.
    assert search(client, how, q="sciatcia tension") == (200, None, [p.id])
    slow_tables.set()
    for reader, _, seg in node().ready_view(10.0).leaves:
        assert seg.spelling(reader, timeout=10.0) is not None
    assert search(client, how, q="sciatcia tension")[1] == "sciatica tension"


def test_one_deadline_serves_every_word_and_segment(app, client, factory, base, monkeypatch):
    factory.practitioner(approach="Lavender and marble.")  # a second segment
    assert len(node().ready_view(10.0).leaves) >= 1
    waits: list[float] = []
    real = arrays.SegmentArrays.spelling

    def spy(self, reader, timeout=None):
        waits.append(timeout)
        return real(self, reader, timeout)

    monkeypatch.setattr(arrays.SegmentArrays, "spelling", spy)
    app.config["SEARCH_SPELLING_WAIT_SECONDS"] = 0.5
    assert search(client, "api", q="lavendr marbel sciatcia")[1] == "lavender marble sciatica"
    assert len(waits) >= 3 and all(w is not None and w <= 0.5 for w in waits)
    assert waits == sorted(waits, reverse=True)  # one deadline, drawing nearer


def test_the_default_wait_is_20_ms():
    from directory.config import DEFAULTS

    assert DEFAULTS["SEARCH_SPELLING_WAIT_SECONDS"] == 0.02


# -- the shortcuts the bounds rely on give the answers of the long way -------------------------
TEXT = st.text(alphabet=st.sampled_from(list("abcdeinorstuy'’ -_1ÉéİǅßK")), max_size=60)


def every_matching_word(text: str, stems: set[str]) -> list[tuple[int, int]]:
    """The long way: every word cut and stemmed."""
    found = []
    for m in documents.WORD.finditer(text):
        word = m.group()
        if present._stem((normalize(word) if "'" in word or "’" in word else word).lower()) in stems:
            found.append(m.span())
    return found


@settings(max_examples=500, deadline=None)
@given(text=TEXT, data=st.data())
def test_snippet_words_are_found_as_a_scan_of_every_word_finds_them(text, data):
    words = [normalize(m.group()).lower() for m in documents.WORD.finditer(text)]
    pool = sorted({present._stem(w) for w in words} - {None}) + ["run", "tion", "stori"]
    stems = set(data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))
    assert list(present._matching_words(text, stems)) == every_matching_word(text, stems)


@pytest.mark.parametrize(
    "text",
    [
        "Sciatica, shoulder tension and stiffness; gentle pressure. Runner's recovery, O’Brien's rock'n'roll.",
        "Stretching, stretches, stretched; relational, relations; happily, happiness; agreed, agreement.",
    ],
)
def test_snippet_words_of_real_text(text):
    analyzer = documents.text_analyzer()
    for word in documents.WORD.findall(text):
        stems = {t.text for t in analyzer(word)}
        if stems:
            assert list(present._matching_words(text, stems)) == every_matching_word(text, stems)


@settings(max_examples=500, deadline=None)
@given(a=st.text(alphabet="abc", max_size=6), b=st.text(alphabet="abc", max_size=6))
def test_one_edit_is_an_edit_distance_of_one(a, b):
    assert present.one_edit(a, b) is (damerau_levenshtein(a, b) == 1)
