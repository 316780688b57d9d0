"""Turn an engine outcome into what people see: cards loaded from the database, in ranked order,
each with a highlighted snippet and the plain sentences that explain its place."""

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import takewhile
from typing import NamedTuple, TypedDict

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape
from whoosh.lang.porter import stem
from whoosh.support.levenshtein import damerau_levenshtein

from directory.catalog.models import Technique
from directory.extensions import db
from directory.geo.distance import distances_km
from directory.practitioners.models import PracticeLocation, Practitioner, practitioner_techniques
from directory.search import badges, spelling
from directory.search.arrays import IndexView
from directory.search.badges import Badge, Badges
from directory.search.documents import STOPLIST, WORD
from directory.search.engine import Concept, Hit, Outcome, Query
from directory.search.record import TEXT
from directory.search.synonyms import normalize

SNIPPET_CHARS = 220
CARD_CACHE_SIZE = 4096  # cards kept per process (a few kB each at most: the approach text)


class Place(NamedTuple):
    city: str
    region: str
    lat: float
    lon: float


@dataclass
class Card:
    """The little a result card needs, read with three plain queries (ORM objects cost more)."""

    id: int
    display_name: str
    headline: str
    approach: str
    places: list["Place"] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)  # slugs


class Result(TypedDict):
    """One result card (ResultSchema)."""

    id: int
    display_name: str
    headline: str
    city: str | None  # of the practitioner's place nearest the searched point (or their first)
    region: str | None
    lat: float | None
    lon: float | None
    distance_km: float | None
    rating: float | None
    review_count: int
    verified: bool
    credentials: list[Badge]
    techniques: list[str]
    snippet: str  # HTML-escaped, matches in <mark>
    why: list[str]


# One statement for a page of cards, built once (compiled once per dialect): a search page pays for
# reading its twenty practitioners, not for building the query. The technique slugs come as one
# space-separated string (slugs have no spaces), aggregated by the database.
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_P, _L = Practitioner.__table__, PracticeLocation.__table__
_SLUGS = (
    sa.select(sa.func.aggregate_strings(Technique.__table__.c.slug, " "))
    .select_from(practitioner_techniques.join(Technique.__table__))
    .where(practitioner_techniques.c.practitioner_id == _P.c.id)
    .scalar_subquery()
)
_CARDS = (
    sa.select(
        _P.c.id,
        _P.c.display_name,
        _P.c.headline,
        _P.c.approach,
        _SLUGS,
        _L.c.city,
        _L.c.region,
        _L.c.lat,
        _L.c.lon,
    )
    .select_from(_P.outerjoin(_L, _L.c.practitioner_id == _P.c.id))
    .where(_P.c.id.in_(_IDS))
    .order_by(_P.c.id, _L.c.id)
)


def _load(pids: list[int]) -> dict[int, Card]:
    if not pids:
        return {}
    cards: dict[int, Card] = {}
    for pid, name, headline, approach, slugs, city, region, lat, lon in db.session.execute(
        _CARDS, {"ids": pids}
    ):
        card = cards.get(pid)
        if card is None:
            card = cards[pid] = Card(pid, name, headline, approach, techniques=sorted((slugs or "").split()))
        if lat is not None:
            card.places.append(Place(city, region, lat, lon))
    return cards


class CardCache:
    """Cards by the index document they were shown for (its segment and number in it), the least
    recently shown let go first. A document never changes once written, and a saved profile is a new
    document, so a card read while its document is live is never older than what the index holds of
    it. Badges and ratings are never cached: they are read for every page (badges.py)."""

    def __init__(self, size: int = CARD_CACHE_SIZE):
        self.size = size
        self._cards: OrderedDict[tuple[str, int], Card] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> Card | None:
        with self._lock:
            card = self._cards.get(key)
            if card is not None:
                self._cards.move_to_end(key)
            return card

    def put(self, key: tuple[str, int], card: Card) -> None:
        with self._lock:
            self._cards[key] = card
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def __len__(self) -> int:
        return len(self._cards)


def card_cache() -> CardCache:
    """This process's card cache (one per app)."""
    found = current_app.extensions.get("directory_cards")
    if not isinstance(found, CardCache):
        found = current_app.extensions["directory_cards"] = CardCache()
    return found


def _cards_of(hits: list[Hit], view: IndexView | None) -> dict[int, Card]:
    """The hits' cards: from the cache when their documents were shown before, else from the
    database (and kept). Without a view (the database scan) there are no documents to key them by."""
    if view is None:
        return _load([h.pid for h in hits])
    cache = card_cache()
    keys = dict(zip((h.pid for h in hits), view.doc_keys([h.doc for h in hits]), strict=True))
    found = {pid: card for pid, key in keys.items() if (card := cache.get(key)) is not None}
    read = _load([pid for pid in keys if pid not in found])
    for pid, card in read.items():
        cache.put(keys[pid], card)
    return found | read


def cards(
    outcome: Outcome, query: Query, place_label: str | None, view: IndexView | None = None
) -> list[Result]:
    rows = _cards_of(outcome.hits, view)
    live = badges.for_practitioners(list(rows))
    out: list[Result] = []
    for hit in outcome.hits:
        p, b = rows.get(hit.pid), live.get(hit.pid)
        # Deleted since the index saw it (a kept card, or between the two reads): the outbox will catch up.
        if p is None or b is None:
            continue
        place = _nearest_place(p, query)
        out.append(
            {
                "id": p.id,
                "display_name": p.display_name,
                "headline": p.headline,
                "city": place.city if place else None,
                "region": place.region if place else None,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "distance_km": round(hit.distance_km, 2) if hit.distance_km is not None else None,
                "rating": b["rating"]["average"],
                "review_count": b["rating"]["count"],
                "verified": b["verified"],
                "credentials": b["credentials"],
                "techniques": p.techniques,
                "snippet": snippet(p, hit),
                "why": why(hit, outcome, place_label, b),
            }
        )
    return out


def _nearest_place(p: Card, query: Query) -> Place | None:
    if not p.places:
        return None
    point = query.point
    if point is None or len(p.places) == 1:
        return p.places[0]
    # A few places: plain floats, one at a time (NumPy's per-call cost was most of a located page's cards).
    distances = list(distances_km(point[0], point[1], ((place.lat, place.lon) for place in p.places)))
    return p.places[distances.index(min(distances))]


def _stem(word: str) -> str | None:
    # Long words (made up: no word a client means is that long) are stemmed, not remembered.
    return _cached_stem(word) if len(word) <= spelling.MAX_LETTERS else _stem_of(word)


def _stem_of(word: str) -> str | None:
    return None if word in STOPLIST else stem(word)


_cached_stem = lru_cache(maxsize=50_000)(_stem_of)


def _matching_words(text: str, stems: set[str]) -> Iterator[tuple[int, int]]:
    """Where the words of `text` that stem to one of `stems` are, cut as the index cut them (WORD).

    Only words that begin as one of the stems does are stemmed: Porter rewrites at most the last two
    letters of the stem it keeps, and never the first, so a word stemming to s begins with all of s
    but its last three letters (its first letter at least). One regular expression skips the rest, so
    a long text of words that cannot match (a profile of made-up words) costs a scan, not a stemming
    of each of its words."""
    lowered = text.lower()
    # (A stem's apostrophes are normalised, the text's not: a head stops before one.)
    heads = tuple(sorted({s[: max(1, len(s) - 3)].split("'")[0] for s in stems}))
    if len(lowered) != len(text) or "" in heads:  # lower-casing moved positions (rare): every word
        spans = (m.span() for m in WORD.finditer(text))
    else:
        starts = (m.start() for m in _beginning_with(heads).finditer(lowered))
        # Every such start begins a WORD (a run of letters or digits, by the pattern's lookbehind).
        spans = (_word_at(text, at) for at in starts if _starts_word(text, at))
    for start, end in spans:
        word = text[start:end]
        if _stem((normalize(word) if "'" in word or "’" in word else word).lower()) in stems:
            yield start, end


def _word_at(text: str, at: int) -> tuple[int, int]:
    found = WORD.match(text, at)
    if found is None:  # never: _beginning_with only starts where a run of letters or digits does
        raise ValueError(f"no word at {at}")
    return found.span()


@lru_cache(maxsize=1024)
def _beginning_with(heads: tuple[str, ...]) -> re.Pattern[str]:
    """Runs of letters and digits that begin with one of `heads`."""
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(map(re.escape, heads))})[^\W_]*")


def _starts_word(text: str, at: int) -> bool:
    """Does WORD begin a word at `at`, the start of a run? Not when the run continues the word before
    it: WORD takes one apostrophe and run after a word ("o'brien"), so in a chain of runs joined by
    apostrophes ("rock'n'roll") every other run begins a word."""
    joined = 0
    while at >= 2 and text[at - 1] in "'’" and text[at - 2].isalnum() and text[at - 2] != "_":
        at -= 1
        while at >= 1 and text[at - 1].isalnum():
            at -= 1
        joined += 1
    return joined % 2 == 0


def snippet(p: Card, hit: Hit) -> str:
    """The approach (or headline) around the first matched word, escaped, matches in <mark>.
    Words are cut and stemmed as the index cut them, so what is marked is what matched."""
    text = p.approach or p.headline or ""
    stems = {s for c in hit.matched for s in c.stems}
    found = _matching_words(text, stems) if stems and text else iter(())
    first = next(found, None)
    start = 0
    if first and first[0] > SNIPPET_CHARS // 3:
        start = text.rfind(" ", 0, first[0] - SNIPPET_CHARS // 4) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        end = max(text.rfind(" ", start, end), first[1] if first else start)
    # Words past the window are not looked for.
    spans = [] if first is None else [first, *takewhile(lambda span: span[0] < end, found)]
    pieces: list[str] = []
    cursor = start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces.append(str(escape(text[cursor:s])))
        pieces.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    pieces.append(str(escape(text[cursor:end])))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(pieces).strip() + suffix


def why(hit: Hit, outcome: Outcome, place_label: str | None, b: Badges) -> list[str]:
    reasons: list[str] = []
    if outcome.concepts:
        words = [
            f"“{c.label}”"
            + (f" (related: {', '.join(s.replace('-', ' ') for s in c.slugs)})" if c.slugs else "")
            for c in hit.matched
        ]
        if outcome.relaxed:
            reasons.append(
                f"Matches {len(hit.matched)} of your {len(outcome.concepts)} words: {'; '.join(words)}."
            )
        else:
            reasons.append(f"Matches {'; '.join(words)}.")
    if hit.distance_km is not None:
        reasons.append(f"{hit.distance_km:.1f} km from {place_label or 'the place you searched'}.")
    if b["verified"]:
        live = [f"{c['title']} ({c['issuer']})" for c in b["credentials"] if c["status"] == "verified"]
        reasons.append(f"Verified credential: {'; '.join(live)}." if live else "Has a verified credential.")
    rating = b["rating"]
    if rating["count"]:
        reasons.append(f"Rated {rating['average']:.1f} from {rating['count']} reviews.")
    else:
        reasons.append("No reviews yet.")
    return reasons


def suggestion(
    view: IndexView,
    q: str | None,
    unknown: list[Concept],
    wait_seconds: float | None = None,
) -> str | None:
    """A corrected query when some words are unknown to the index (and have no synonym: `unknown`,
    engine.unknown): each such word becomes the nearest known word (fewest edits, then the most common). At most
    spelling.MAX_WORDS words are looked up, only spellable ones, and the spelling tables are waited
    for `wait_seconds` in all (None: until built); past that there is no suggestion this time."""
    if not q or not unknown:
        return None
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    words = [
        word
        for concept in unknown
        if not concept.slugs
        for word in re.findall(r"[^\W_]+", concept.label)
        if spelling.spellable(word.lower())
    ]
    corrected, changed = q, False
    for word in list(dict.fromkeys(words))[: spelling.MAX_WORDS]:
        try:
            best = _nearest_word(view, word.lower(), deadline)
        except _NotReady:
            return None  # a spelling table is still being built
        if best and best != word.lower():
            corrected, n = re.subn(rf"\b{re.escape(word)}\b", best, corrected, count=1, flags=re.IGNORECASE)
            changed = changed or n > 0
    return corrected if changed else None


class _NotReady(Exception):
    """A spelling table was not built by the deadline."""


def _candidates(view: IndexView, word: str, deadline: float | None, within_one: bool = False) -> set[str]:
    found = view.spelling_candidates(word, deadline, within_one)
    if found is None:
        raise _NotReady
    return found


def _nearest_word(view: IndexView, word: str, deadline: float | None) -> str | None:
    """The known word fewest edits away (at most two), then the one in the most documents. Words one
    edit away are looked for first among the few candidates that can be (one pass over each pair of
    words); the full edit distance is taken over every candidate only when none is."""
    near = _candidates(view, word, deadline, within_one=True)
    if word in near:
        return word
    nearest = [c for c in near if one_edit(word, c)]
    if not nearest:
        nearest = [c for c in _candidates(view, word, deadline) if damerau_levenshtein(word, c) <= 2]
    if not nearest:
        return None

    def popularity(candidate: str) -> int:
        stemmed = _stem(candidate)
        return len(view.postings(TEXT, stemmed)[0]) if stemmed else 0

    return min(nearest, key=lambda c: (-popularity(c), c))


def one_edit(a: str, b: str) -> bool:
    """Exactly one edit apart: a letter changed, added or taken out, or two side by side swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    shorter = min(len(a), len(b))
    head = 0
    while head < shorter and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shorter - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    rest_a, rest_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(rest_a) <= 1 and len(rest_b) <= 1:
        return True
    return len(rest_a) == len(rest_b) == 2 and rest_a == rest_b[::-1]
