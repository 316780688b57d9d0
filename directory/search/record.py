"""The search record: the one definition of what the index holds about a practitioner.

Two parts, each named here and nowhere else:

- the Whoosh fields of a document (PID, TEXT, WORDS, VOCAB, LANG, META): documents.py builds the
  schema and the documents from these names, arrays.py, the engine, the index store and the
  consistency check read them by these names;
- the packed head of the `META` column: one `Column` per number a query filters, scores or sorts on,
  in packing order. The bytes (`META_HEAD`), the NumPy row (`HEAD_DTYPE`) and the value taken from a
  practitioner's facts all come from the one `HEAD` table below, so a new filter is one line here
  (and the engine's use of it), never a second layout to keep in step.

The packed layout is what indexes already on disk hold: changing a column's code or order means
rebuilding every node's index (`flask directory reindex`).
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, TypedDict

import numpy as np

# -- the Whoosh fields of a document ----------------------------------------------------------------
PID: Final = "pid"  # the practitioner's id as text (stored); spelling-word documents carry WORDS_PID_PREFIX
TEXT: Final = "text"  # stemmed words, matched and scored (BM25)
WORDS: Final = "words"  # unstemmed spelling words, in documents of their own
VOCAB: Final = "vocab"  # vocabulary slugs (techniques, conditions, client groups): synonyms, filters, facets
LANG: Final = "lang"  # ISO 639-1 codes
META: Final = "meta"  # the packed head and places below
FIELDS = (PID, TEXT, WORDS, VOCAB, LANG, META)
WORDS_PID_PREFIX = "~words-"


# A document as Whoosh's writer takes it (keyword arguments, one per field). A TypedDict needs its keys
# written out, so the names above are spelt again here; documents.py builds both from the names above,
# so mypy holds the two in step.
class PractitionerDocument(TypedDict):
    pid: str
    text: str
    vocab: str
    lang: str
    meta: bytes


class WordsDocument(TypedDict):
    pid: str
    words: str


@dataclass
class SearchFacts:
    """What search knows of a practitioner, gathered from every domain (see facts.py)."""

    pid: int
    texts: list[str]
    # The text whose words spelling suggestions may offer (the approach): never a name, a city or an
    # issuer, so "jaw" is never corrected to someone called Jae (documents.spelling_words).
    spelling_text: str
    slugs: list[str]
    languages: list[str]
    places: list[tuple[float, float]]
    accepting_until: datetime | None = None
    verified_until: date | None = None
    practicing_since: int | None = None
    rating_average: float | None = None
    rating_bayes: float = 0.0
    review_count: int = 0
    price_from: int | None = None  # the lowest price the profile gives, whole currency units
    home_visits: bool = False
    verified_since: int | None = None  # year of the earliest licence whose issue date a source showed
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    """One number of the packed head: its name in the arrays, its struct code in the bytes, its NumPy
    type (the same width), and how it is taken from a practitioner's facts and text length."""

    name: str
    code: str
    dtype: str
    value: Callable[[SearchFacts, int], int | float]


# -- the packed head, in packing order --------------------------------------------------------------
ACCEPTING_UNTIL = "accepting_until"  # epoch seconds the "accepting clients" answer lapses; 0 = not accepting
VERIFIED_UNTIL = "verified_until"  # date ordinal of the live badge's last day; 0 = no badge
SINCE = "since"  # year of practice begun; 0 = unknown
RATING = "rating"  # plain average of reviews (the min_rating filter); 0 without reviews
BAYES = "bayes"  # Bayesian rating (ranking and the rating sort)
REVIEWS = "reviews"  # review count
DL = "dl"  # document length in terms (BM25's length normalisation)
PRICE_FROM = "price_from"  # the lowest price; 0 = none given
HOME_VISITS = "home_visits"  # 1 = visits clients at home
VERIFIED_SINCE = "verified_since"  # year verified experience counts from; 0 = none

HEAD = (
    Column(PID, "i", "i4", lambda f, n: f.pid),
    Column(
        ACCEPTING_UNTIL,
        "q",
        "i8",
        lambda f, n: int(f.accepting_until.timestamp()) if f.accepting_until else 0,
    ),
    Column(VERIFIED_UNTIL, "i", "i4", lambda f, n: f.verified_until.toordinal() if f.verified_until else 0),
    Column(SINCE, "H", "i2", lambda f, n: f.practicing_since or 0),
    Column(RATING, "f", "f4", lambda f, n: f.rating_average or 0.0),
    Column(BAYES, "f", "f4", lambda f, n: f.rating_bayes),
    Column(REVIEWS, "I", "i4", lambda f, n: f.review_count),
    Column(DL, "f", "f4", lambda f, n: float(n)),
    Column(PRICE_FROM, "i", "i4", lambda f, n: f.price_from or 0),
    Column(HOME_VISITS, "B", "u1", lambda f, n: int(f.home_visits)),
    Column(VERIFIED_SINCE, "H", "i2", lambda f, n: f.verified_since or 0),
)
# The head ends with the number of places; then (lat, lon) in degrees for each place.
META_HEAD = struct.Struct("<" + "".join(c.code for c in HEAD) + "H")
META_PLACE = struct.Struct("<dd")
# One row per document in arrays.py: the head less the place count.
HEAD_DTYPE = np.dtype([(c.name, c.dtype) for c in HEAD])
# What an index on disk was written with (its progress file keeps it): an index of another layout is
# rebuilt, never misread (index/files.py).
LAYOUT: Final = ",".join([*FIELDS, META_HEAD.format, *(c.name for c in HEAD)])


def pack_meta(facts: SearchFacts, text_length: int) -> bytes:
    head = META_HEAD.pack(*(c.value(facts, text_length) for c in HEAD), len(facts.places))
    return head + b"".join(META_PLACE.pack(lat, lon) for lat, lon in facts.places)


def unpack_meta(blob: bytes) -> tuple[tuple[int | float, ...], list[tuple[float, float]]]:
    """(the head's values, then the place count; the places)."""
    head = META_HEAD.unpack_from(blob)
    return head, [META_PLACE.unpack_from(blob, META_HEAD.size + i * META_PLACE.size) for i in range(head[-1])]
