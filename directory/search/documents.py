"""What the index holds about a practitioner: the Whoosh schema and the document builder.

Text goes into `text` (stemmed, for matching and scoring); the unstemmed words the spelling
suggester draws on go into `words` documents of their own (see schema()). Vocabulary slugs and languages are keywords, used as postings
for synonyms, filters and facets. Everything numeric a query filters, scores or sorts on is packed
into one column (`meta`) that arrays.py reads once per segment.
"""

import re
import struct
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from whoosh import fields
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.columns import VarBytesColumn

from directory.search import spelling
from directory.search.synonyms import normalize

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


def text_analyzer():
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOPLIST) | StemFilter()


def schema() -> fields.Schema:
    return fields.Schema(
        pid=fields.ID(stored=True, unique=True),
        text=fields.TEXT(analyzer=text_analyzer(), phrase=False),
        # The spelling vocabulary: not one posting per practitioner and word (that doubled the
        # cost of indexing) but one small document per batch listing the words it brought in;
        # stored too, so a segment's spelling table reads its words in one go (arrays.py).
        words=fields.KEYWORD(lowercase=True, commas=False, stored=True),
        vocab=fields.KEYWORD(lowercase=True, commas=False),
        lang=fields.KEYWORD(lowercase=True, commas=False),
        meta=fields.COLUMN(VarBytesColumn()),
    )


# pid, accepting_until (epoch s, 0 = no), verified_until (date ordinal, 0 = none), practicing_since
# (0 = unknown), rating average, Bayesian rating, review count, text length, number of places;
# then (lat, lon) in degrees for each place.
META_HEAD = struct.Struct("<iqiHffIfH")
META_PLACE = struct.Struct("<dd")
NO_EXPIRY = date.max.toordinal()


@dataclass
class SearchFacts:
    """What search knows of a practitioner, gathered from every domain (see facts.py)."""

    pid: int
    texts: list[str]
    slugs: list[str]
    languages: list[str]
    places: list[tuple[float, float]]
    accepting_until: datetime | None = None
    verified_until: date | None = None
    practicing_since: int | None = None
    rating_average: float | None = None
    rating_bayes: float = 0.0
    review_count: int = 0
    extra: dict = field(default_factory=dict)


def pack_meta(facts: SearchFacts, text_length: int) -> bytes:
    head = META_HEAD.pack(
        facts.pid,
        int(facts.accepting_until.timestamp()) if facts.accepting_until else 0,
        facts.verified_until.toordinal() if facts.verified_until else 0,
        facts.practicing_since or 0,
        facts.rating_average or 0.0,
        facts.rating_bayes,
        facts.review_count,
        float(text_length),
        len(facts.places),
    )
    return head + b"".join(META_PLACE.pack(lat, lon) for lat, lon in facts.places)


def unpack_meta(blob: bytes) -> tuple[tuple, list[tuple[float, float]]]:
    head = META_HEAD.unpack_from(blob)
    places = [META_PLACE.unpack_from(blob, META_HEAD.size + i * META_PLACE.size) for i in range(head[-1])]
    return head, places


def text_length(text: str) -> int:
    """Close to the number of terms Whoosh indexes, at a fraction of the cost of analysing twice."""
    return sum(1 for w in WORD.findall(text.lower()) if w not in STOPLIST)


def spelling_words(text: str) -> set[str]:
    """The words of one profile's text that enter the spelling vocabulary (bounded: spelling.py)."""
    return set(spelling.learnable(w for w in WORD.findall(text.lower()) if w not in STOPLIST))


def document_text(facts: SearchFacts) -> str:
    return normalize("\n".join(t for t in facts.texts if t))


def words_document(words: set[str]) -> dict:
    """A document that only carries spelling words; its pid marks it as not a practitioner."""
    return {"pid": f"{WORDS_PID_PREFIX}{time.time_ns()}", "words": " ".join(sorted(words))}


WORDS_PID_PREFIX = "~words-"


def to_document(facts: SearchFacts, text: str) -> dict:
    return {
        "pid": str(facts.pid),
        "text": text,
        "vocab": " ".join(facts.slugs),
        "lang": " ".join(facts.languages),
        "meta": pack_meta(facts, text_length(text)),
    }
