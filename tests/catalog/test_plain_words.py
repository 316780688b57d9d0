"""The catalog's plain words (directory/catalog/plain_words.toml): every phrase means slugs the catalog
holds, none is listed twice, and search cuts a query at the longest one wherever it stands."""

import pytest

from directory.search import synonyms


def test_every_plain_word_means_terms_the_catalog_holds(client):
    vocabulary = client.get("/api/v1/vocabulary").get_json()
    known = {term["slug"] for terms in vocabulary.values() for term in terms}
    meant = {slug for slugs in synonyms.PLAIN_WORDS.values() for slug in slugs}
    assert meant and meant <= known, sorted(meant - known)


@pytest.mark.parametrize(
    "table",
    [
        '[[entry]]\nphrases = ["jaw", "Jaw"]\nslugs = ["neck-pain"]',
        '[[entry]]\nphrases = ["tmj"]\nslugs = ["neck-pain"]\n[[entry]]\nphrases = ["TMJ"]\nslugs = ["headaches"]',
        '[[entry]]\nphrases = ["golfer\'s elbow", "golfer elbow"]\nslugs = ["repetitive-strain"]',
        '[[entry]]\nphrases = ["tennis  elbow", "tennis elbow"]\nslugs = ["repetitive-strain"]',
        '[[entry]]\nphrases = ["--"]\nslugs = ["neck-pain"]',
    ],
)
def test_a_phrase_listed_twice_in_any_spelling_or_with_no_word_is_refused(table):
    with pytest.raises(ValueError, match="twice, or it has no word"):
        synonyms.parse(table)


@pytest.mark.parametrize(
    ("query", "concepts"),
    [
        ("tennis elbow", ["tennis elbow"]),
        ("my tennis elbow flared up", ["my", "tennis elbow", "flared", "up"]),
        ("carpal tunnel syndrome since May", ["carpal tunnel syndrome", "since", "May"]),
        ("carpal tunnel", ["carpal tunnel"]),
        ("lower back pain and TMJ", ["lower back pain", "and", "TMJ"]),
        ("Golfer’s Elbow", ["Golfer Elbow"]),
        ("tennis, elbow", ["tennis elbow"]),  # words, not punctuation, make a phrase
        ("elbow tennis", ["elbow", "tennis"]),
    ],
)
def test_a_query_is_cut_at_the_longest_phrase_wherever_it_stands(query, concepts):
    assert [label for label, _ in synonyms.split_concepts(query)] == concepts
