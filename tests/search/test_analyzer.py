"""The analyzer that indexes and reads every text gives exactly the terms of the Whoosh chain it replaced
(documents.TextAnalyzer against Whoosh's chain): a difference would make old words unfindable."""

import pickle
from pathlib import Path

import pytest
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

import directory.demo.texts as demo_texts
from directory.search import documents
from directory.search.synonyms import PLAIN_WORDS

# The demo's wordings (English a profile is made of), the plain-words table, and texts chosen to trip
# a tokenizer: apostrophes both ways, letters that change length when lower-cased, digits, underscores,
# one- and two-letter words, stop words in every case, and long words.
CORPUS = [
    Path(demo_texts.__file__).read_text(),
    " ".join(PLAIN_WORDS),
    "Knots in MY shoulders, İzmir’s runners; a I x TMJ jaw-pain don't 12 ab_cd Ünïcödé ß STRASSE",
    "The THE the running runners ran; it's IT'S it’s O'Neil o’neil",
    "x" * 300 + " supercalifragilisticexpialidocious " + "ab " * 50,
    "   ",
    "",
    "ΣΊΣΥΦΟΣ σίσυφος Ωμέγα; 東京 マッサージ; عربى",
]
OPTIONS = [
    {},
    {"removestops": False},
    {"positions": True, "chars": True},
    {"positions": True, "removestops": False, "start_pos": 3, "start_char": 7},
    {"tokenize": False},
    {"keeporiginal": True},
]


def whoosh_chain():
    """Whoosh's own chain, which documents.TextAnalyzer replaced."""
    return (
        RegexTokenizer(documents.TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=documents.STOPLIST)
        | StemFilter()
    )


def terms(analyzer, text: str, options: dict) -> list[tuple]:
    return [
        (
            t.text,
            t.stopped,
            getattr(t, "pos", None),
            getattr(t, "startchar", None),
            getattr(t, "endchar", None),
            getattr(t, "original", None),
        )
        for t in analyzer(text, **options)
    ]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("text", range(len(CORPUS)))
def test_the_terms_are_the_whoosh_chains(text, options):
    expected = terms(whoosh_chain(), CORPUS[text], options)
    assert terms(documents.text_analyzer(), CORPUS[text], options) == expected


def test_a_corpus_that_says_something():
    # The comparison above means something only if the chain stems, drops stop words and keeps others.
    found = [t[0] for t in terms(whoosh_chain(), CORPUS[3], {})]
    assert "runn" in found and "the" not in found and "it" not in found


def test_remembered_stems_are_not_pickled_and_come_back_empty():
    analyzer = documents.text_analyzer()
    list(analyzer("running runners"))
    assert analyzer.stems
    copy = pickle.loads(pickle.dumps(analyzer))  # noqa: S301  (as the index's table of contents stores it)
    assert copy.stems == {} and copy == analyzer
    assert terms(copy, CORPUS[2], {}) == terms(analyzer, CORPUS[2], {})


def test_the_memory_of_stems_is_bounded(monkeypatch):
    analyzer = documents.text_analyzer()
    monkeypatch.setattr(documents.TextAnalyzer, "REMEMBERED", 3)
    list(analyzer("alpha bravo charlie delta echo foxtrot"))
    assert len(analyzer.stems) <= 3
    assert terms(analyzer, CORPUS[0], {}) == terms(whoosh_chain(), CORPUS[0], {})
