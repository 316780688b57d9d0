"""What the index holds about a practitioner: the Whoosh schema and the document builder.

The fields and the packed `meta` layout are the search record (record.py). Text goes into `text`
(stemmed, for matching and scoring); the unstemmed words the spelling suggester draws on go into
`words` documents of their own (see schema()). Vocabulary slugs and languages are keywords, used as
postings for synonyms, filters and facets. Everything numeric a query filters, scores or sorts on is
packed into one column (`meta`) that arrays.py reads once per segment.
"""

import re
import time
from collections.abc import Iterable

from whoosh import fields
from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.columns import VarBytesColumn

from directory.search import spelling
from directory.search.record import (
    LANG,
    META,
    PID,
    TEXT,
    VOCAB,
    WORDS,
    WORDS_PID_PREFIX,
    PractitionerDocument,
    SearchFacts,
    WordsDocument,
    pack_meta,
)
from directory.search.synonyms import PLAIN_WORDS, normalize

# Words that carry no meaning in a search for a therapist ("someone near me for my back").
EXTRA_STOP = {
    "my",
    "me",
    "i",
    "im",
    "our",
    "need",
    "needs",
    "want",
    "looking",
    "someone",
    "who",
    "near",
    "help",
    "please",
    "some",
    "very",
    "really",
    "get",
    "got",
    "am",
    "do",
    "does",
}
STOPLIST = frozenset(STOP_WORDS) | EXTRA_STOP
TOKEN_PATTERN = r"[^\W_]+(?:['’][^\W_]+)?"  # noqa: S105  # nosec B105: a regex, not a password
WORD = re.compile(TOKEN_PATTERN)


def text_analyzer() -> Analyzer:
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOPLIST) | StemFilter()


def schema() -> fields.Schema:
    return fields.Schema(
        **{
            PID: fields.ID(stored=True, unique=True),
            TEXT: fields.TEXT(analyzer=text_analyzer(), phrase=False),
            # The spelling vocabulary: not one posting per practitioner and word (that doubled the
            # cost of indexing) but one small document per batch listing the words it brought in;
            # stored too, so a segment's spelling table reads its words in one go (arrays.py).
            WORDS: fields.KEYWORD(lowercase=True, commas=False, stored=True),
            VOCAB: fields.KEYWORD(lowercase=True, commas=False),
            LANG: fields.KEYWORD(lowercase=True, commas=False),
            META: fields.COLUMN(VarBytesColumn()),
        }
    )


def text_length(text: str) -> int:
    """Close to the number of terms Whoosh indexes, at a fraction of the cost of analysing twice."""
    return sum(1 for w in WORD.findall(text.lower()) if w not in STOPLIST)


def spelling_words(facts: SearchFacts) -> set[str]:
    """The words of one profile that enter the spelling vocabulary: its approach text's, bounded
    (spelling.py). Names, cities and issuers are found as typed but never offered as a correction."""
    text = normalize(facts.spelling_text).lower()
    return set(spelling.learnable(w for w in WORD.findall(text) if w not in STOPLIST))


def domain_words(names: Iterable[str]) -> set[str]:
    """The spelling words every index holds whoever is listed: the catalog's term names given, and
    every word of the plain-words table, so a misspelt complaint is corrected to a complaint. All of
    them: the domain's own data is not held to a profile's budget of variants."""
    text = normalize(" ".join([*names, *PLAIN_WORDS])).lower()
    return {w for w in WORD.findall(text) if w not in STOPLIST and spelling.spellable(w)}


def document_text(facts: SearchFacts) -> str:
    return normalize("\n".join(t for t in facts.texts if t))


def words_document(words: set[str]) -> WordsDocument:
    """A document that only carries spelling words; its pid marks it as not a practitioner."""
    return {PID: f"{WORDS_PID_PREFIX}{time.time_ns()}", WORDS: " ".join(sorted(words))}


def to_document(facts: SearchFacts, text: str) -> PractitionerDocument:
    return {
        PID: str(facts.pid),
        TEXT: text,
        VOCAB: " ".join(facts.slugs),
        LANG: " ".join(facts.languages),
        META: pack_meta(facts, text_length(text)),
    }
