"""The query path: concepts, filters, distance, one ranking formula, facets and a stable page.

Ranking (relevance), every part in 0..1, weights summing to 1:

    relevance = 0.55 · coverage · text + 0.15 · verified + 0.15 · rating + 0.15 · proximity

- text: the BM25 score of the matched words (stemmed, plus their plain-word synonyms in the
  vocabulary), divided by the best text score in the result set;
- coverage: the share of the query's concepts the document matched (1 unless `relaxed`);
- verified: 1 with a live verified credential;
- rating: the Bayesian average (reviews.py documents it) over 5, so a few reviews cannot outrank many;
- proximity: 1 at the searched point, falling linearly to 0 at the radius (0 without a location).

Every order breaks ties by practitioner id, so paging returns each match exactly once.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from whoosh.analysis import Analyzer

from directory.geo.distance import haversine_km
from directory.search.arrays import Columns, IndexView, bit_counts
from directory.search.record import (
    ACCEPTING_UNTIL,
    BAYES,
    HOME_VISITS,
    LANG,
    PID,
    PRICE_FROM,
    RATING,
    REVIEWS,
    SINCE,
    TEXT,
    VERIFIED_SINCE,
    VERIFIED_UNTIL,
    VOCAB,
)
from directory.search.synonyms import split_concepts


@dataclass(frozen=True)
class Weights:
    """The ranking formula's weights (module docstring); they sum to 1, so relevance is in 0..1."""

    text: float = 0.55
    verified: float = 0.15
    rating: float = 0.15
    proximity: float = 0.15


WEIGHTS = Weights()
SLUG_WEIGHT = 1.0  # a synonym's vocabulary hit counts like a strong word match
# Postings per candidate above which a narrow search finds its candidates among a word's postings by
# binary search (a candidate's log2 of the postings in steps) rather than placing every posting.
SEARCH_BY_HALVING = 32
MAX_CONCEPTS = 12  # words or known phrases of a query that count; the rest are not searched for


@dataclass
class Query:
    q: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 25.0
    techniques: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    client_groups: list[str] = field(default_factory=list)
    language: str | None = None
    verified: bool = False
    min_years: int | None = None
    min_rating: float | None = None
    accepting: bool = False
    max_price: int | None = None
    home_visits: bool = False
    min_verified_years: int | None = None
    sort: str | None = None
    page: int = 1
    per_page: int = 20
    after: int | None = None  # a walk's place: only results whose sort key is above this (walks.py)

    @property
    def point(self) -> tuple[float, float] | None:
        """(lat, lon) of the searched place, or None without one."""
        return (self.lat, self.lon) if self.lat is not None and self.lon is not None else None

    @property
    def located(self) -> bool:
        return self.point is not None


@dataclass
class Concept:
    label: str
    stems: list[str]
    slugs: tuple[str, ...]


@dataclass
class Hit:
    doc: int
    pid: int
    distance_km: float | None
    matched: list[Concept]
    relevance: float


@dataclass
class Outcome:
    total: int
    hits: list[Hit]
    relaxed: bool
    sort: str
    concepts: list[Concept]
    facets: dict[str, dict[str, int]]
    next_key: int | None = None  # the last hit's sort key, when more results follow it
    degraded: bool = False  # answered by the database scan (no index, or one found damaged mid-read)


def plan(q: str | None, analyzer: Analyzer) -> list[Concept]:
    """The query's concepts, each once (a word typed twice is one concept), and at most MAX_CONCEPTS
    of them: each costs arrays the size of the candidates, and no one searching means more."""
    concepts: list[Concept] = []
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for phrase, slugs in split_concepts(q or ""):
        stems = list(dict.fromkeys(t.text for t in analyzer(phrase)))
        key = (tuple(stems), slugs)
        if (stems or slugs) and key not in seen:
            seen.add(key)
            concepts.append(Concept(phrase, stems, slugs))
            if len(concepts) == MAX_CONCEPTS:
                break
    return concepts


def _mask_of(view: IndexView, fieldname: str, term: str) -> NDArray[np.bool_]:
    mask = np.zeros(len(view.alive), dtype=bool)
    mask[view.postings(fieldname, term)[0]] = True
    return mask


# The yes-or-no filters, each once: the filter keeps the rows it marks, its facet counts them.
YES_OR_NO: dict[str, Callable[[Columns, datetime], NDArray[np.bool_]]] = {
    "verified": lambda head, now: head[VERIFIED_UNTIL] >= now.date().toordinal(),
    "accepting": lambda head, now: head[ACCEPTING_UNTIL] > int(now.timestamp()),
    "home_visits": lambda head, now: head[HOME_VISITS] == 1,
}


def _filters(view: IndexView, query: Query, now: datetime) -> NDArray[np.bool_]:
    head = view.head
    mask = view.alive.copy()
    if query.verified:
        mask &= YES_OR_NO["verified"](head, now)
    if query.accepting:
        mask &= YES_OR_NO["accepting"](head, now)
    if query.min_years is not None:
        mask &= (head[SINCE] > 0) & (head[SINCE] <= now.year - query.min_years)
    if query.min_rating is not None:
        mask &= (head[REVIEWS] > 0) & (head[RATING] >= query.min_rating)
    if query.max_price is not None:
        mask &= (head[PRICE_FROM] > 0) & (head[PRICE_FROM] <= query.max_price)
    if query.home_visits:
        mask &= YES_OR_NO["home_visits"](head, now)
    if query.min_verified_years is not None:
        # Verified experience counts while a badge is live (as the profile shows it).
        mask &= (head[VERIFIED_SINCE] > 0) & (head[VERIFIED_SINCE] <= now.year - query.min_verified_years)
        mask &= YES_OR_NO["verified"](head, now)
    for slug in query.techniques + query.conditions + query.client_groups:
        mask &= _mask_of(view, VOCAB, slug)
    if query.language:
        mask &= _mask_of(view, LANG, query.language)
    return mask


def _distances(view: IndexView, point: tuple[float, float], radius: float) -> NDArray[np.float64]:
    """Great-circle km from the point to each document's nearest place (inf beyond the radius)."""
    dist = np.full(len(view.alive), np.inf, dtype=np.float64)
    lat, lon = point
    dlat = radius / 111.0 + 0.01
    # Places are sorted by latitude (arrays.py), so the band is a slice found by binary search.
    lo, hi = np.searchsorted(view.loc_lat, [lat - dlat, lat + dlat])
    band_lat, band_lon = view.loc_lat[lo:hi], view.loc_lon[lo:hi]
    picked = np.arange(lo, hi)
    coslat = np.cos(np.radians(min(abs(lat) + dlat, 90.0)))
    if coslat > 0.01:  # away from the poles a longitude window narrows the work further
        dlon = radius / (111.0 * coslat) + 0.01
        near = np.abs((band_lon - lon + 180.0) % 360.0 - 180.0) <= dlon
        picked, band_lat, band_lon = picked[near], band_lat[near], band_lon[near]
    if len(picked):
        d = haversine_km(lat, lon, band_lat, band_lon)
        inside = d <= radius
        np.minimum.at(dist, view.loc_doc[picked[inside]], d[inside])
    return dist


def _text(
    view: IndexView, concepts: list[Concept], candidates: NDArray[np.intp]
) -> tuple[list[NDArray[np.bool_]], NDArray[np.float32], bool]:
    """Which documents match each concept, and the summed BM25 score of what matched, over a working
    space: a narrow search (a place, filters) gathers the postings onto its candidates, so it never
    touches arrays the size of the index; a broad one scatters them over every document and answers
    in that space (True last), so no array the size of the index is gathered down to the candidates."""
    size = len(candidates)
    broad = size * 4 >= len(view.alive)
    space = len(view.alive) if broad else size
    position: list[NDArray[np.int64]] = []  # each candidate's place, by document: made when first needed

    def placed(
        ids: NDArray[np.int32],
    ) -> tuple[NDArray[np.int32] | NDArray[np.intp], NDArray[np.intp] | None]:
        """Where the postings' documents are in the working space, and which postings those are
        (None: all of them). Postings and candidates are both in document order: a few candidates are
        looked up among many postings by binary search; otherwise each posting looks its document up
        in a table of the candidates' places."""
        if broad:
            return ids, None
        if not len(ids):
            return np.empty(0, np.intp), np.empty(0, np.intp)
        if size * SEARCH_BY_HALVING < len(ids):
            at = np.minimum(np.searchsorted(ids, candidates), len(ids) - 1)
            hit = ids[at] == candidates
            return np.flatnonzero(hit), at[hit]
        if not position:
            table = np.full(len(view.alive), -1, dtype=np.int64)
            table[candidates] = np.arange(size)
            position.append(table)
        at = position[0][ids]
        keep = np.flatnonzero(at >= 0)
        return at[keep], keep

    score = np.zeros(space, dtype=np.float32)
    masks: list[NDArray[np.bool_]] = []
    for concept in concepts:
        cmask = np.zeros(space, dtype=bool)
        if len(concept.stems) == 1:  # one word: its postings are its matches
            ids, weights = view.bm25(TEXT, concept.stems[0])
            at, keep = placed(ids)
            cmask[at] = True
            score[at] += weights if keep is None else weights[keep]
        elif concept.stems:
            hits = np.zeros(space, dtype=np.int16)
            tscore = np.zeros(space, dtype=np.float32)
            for stem in concept.stems:  # a phrase needs all its words
                ids, weights = view.bm25(TEXT, stem)
                at, keep = placed(ids)
                hits[at] += 1
                tscore[at] += weights if keep is None else weights[keep]
            tmask = hits == len(concept.stems)
            cmask |= tmask
            score += np.where(tmask, tscore, 0)
        for slug in concept.slugs:
            ids, _ = view.postings(VOCAB, slug)
            if len(ids):
                idf = np.log(1.0 + (view.doc_count - len(ids) + 0.5) / (len(ids) + 0.5))
                at, _ = placed(ids)
                cmask[at] = True
                score[at] += SLUG_WEIGHT * idf
        masks.append(cmask)
    return masks, score, broad


def _facets(
    view: IndexView, idx: NDArray[np.intp], facet_slugs: dict[str, list[str]]
) -> dict[str, dict[str, int]]:
    """How many of the results hold each vocabulary slug (every slug, zeros too) and each language
    a practitioner of this generation speaks (those with any)."""
    families = [(name, VOCAB, slugs) for name, slugs in facet_slugs.items()]
    families.append(("language", LANG, view.languages()))
    values = tuple((fieldname, term) for _, fieldname, terms in families for term in terms)
    counts = iter(bit_counts(view.facet_bits(values)[idx], len(values)))
    facets = {name: dict(zip(terms, counts, strict=False)) for name, _, terms in families}
    facets["language"] = {code: n for code, n in facets["language"].items() if n}
    return facets


def _yes_counts(head: Columns, now: datetime) -> dict[str, dict[str, int]]:
    """How many of the results each yes-or-no filter would keep: {"verified": {"true": n}, …}."""
    return {name: {"true": int(np.count_nonzero(kept(head, now)))} for name, kept in YES_OR_NO.items()}


def unknown(view: IndexView, concepts: list[Concept]) -> list[Concept]:
    """The concepts no document could match: while one is in the query, q as typed finds nothing,
    or only partial matches."""
    return [c for c in concepts if _unknown(view, c)]


def _unknown(view: IndexView, concept: Concept) -> bool:
    """A concept no document could match: a word the index has never seen, and no synonym."""
    return not concept.slugs and any(len(view.postings(TEXT, s)[0]) == 0 for s in concept.stems)


def _order_keys(primary: np.ndarray, pids: np.ndarray, descending: bool) -> np.ndarray:
    """One int64 per document: the primary value's float32 bits (order-preserving for values >= 0),
    then the practitioner id, so sorting the keys is sorting by (primary, id)."""
    bits = np.ascontiguousarray(np.maximum(primary, 0).astype(np.float32)).view(np.uint32).astype(np.int64)
    if descending:
        bits = 0xFFFFFFFF - bits
    return (bits << 31) | pids.astype(np.int64)


def _page(keys: np.ndarray, start: int, stop: int) -> np.ndarray:
    if start >= len(keys):
        return np.empty(0, dtype=np.int64)
    stop = min(stop, len(keys))
    if stop < len(keys):
        top = np.argpartition(keys, stop - 1)[:stop]
        return top[np.argsort(keys[top], kind="stable")][start:stop]
    return np.argsort(keys, kind="stable")[start:stop]


def run(
    view: IndexView, query: Query, concepts: list[Concept], now: datetime, facet_slugs: dict[str, list[str]]
) -> Outcome:
    mask = _filters(view, query, now)
    dist = None
    point = query.point
    if point is not None:
        dist = _distances(view, point, query.radius_km)
        mask &= np.isfinite(dist)
    candidates = np.flatnonzero(mask)
    relaxed = False
    # The concepts' masks and scores are over the candidates, or over every document (broad); `local`
    # is then a result's position in that space, and `idx` its document number.
    masks, text_score, broad = _text(view, concepts, candidates) if concepts else ([], None, False)
    matched_count: NDArray[np.int16] | None = None
    if concepts:
        matched_count = np.zeros(len(masks[0]), dtype=np.int16)
        for cmask in masks:
            matched_count += cmask
        eligible = mask if broad else True
        keep = (matched_count == len(concepts)) & eligible
        if not keep.any() and len(concepts) > 1:
            keep = (matched_count > 0) & eligible
            relaxed = bool(keep.any())
    else:
        keep = np.ones(len(candidates), dtype=bool)
    local = np.flatnonzero(keep)
    idx = local if broad else candidates[local]
    head = view.head.take(idx)
    coverage = matched_count[local] / len(concepts) if matched_count is not None else None
    relevance = _relevance(
        query,
        head,
        text_score[local] if text_score is not None else None,
        coverage,
        dist[idx] if dist is not None else None,
        now,
    )
    sort = query.sort or ("relevance" if concepts else "distance" if query.located else "rating")
    if sort == "distance" and dist is not None:
        keys = _order_keys(dist[idx], head[PID], descending=False)
    elif sort == "rating":
        keys = _order_keys(head[BAYES], head[PID], descending=True)
    else:
        keys = _order_keys(relevance, head[PID], descending=True)
    if query.after is None:
        start = (query.page - 1) * query.per_page
        picked = _page(keys, start, start + query.per_page)
        more = start + len(picked) < len(keys)
    else:  # keyset: the page after the last key given
        later = np.flatnonzero(keys > query.after)
        picked = later[_page(keys[later], 0, query.per_page)]
        more = len(picked) < len(later)
    hits = [
        Hit(
            doc=int(idx[i]),
            pid=int(head[PID][i]),
            distance_km=float(dist[idx[i]]) if dist is not None else None,
            matched=[c for c, m in zip(concepts, masks, strict=True) if m[local[i]]],
            relevance=float(relevance[i]),
        )
        for i in picked
    ]
    facets = _facets(view, idx, facet_slugs)
    facets.update(_yes_counts(head, now))
    next_key = int(keys[picked[-1]]) if more and len(picked) else None
    return Outcome(len(idx), hits, relaxed, sort, concepts, facets, next_key)


def _relevance(
    query: Query,
    head: Columns,
    text_score: NDArray[np.float32] | None,
    coverage: NDArray[np.float64] | None,
    dist: NDArray[np.float64] | None,
    now: datetime,
) -> NDArray[np.float64]:
    parts = np.zeros(len(head), dtype=np.float64)
    if coverage is not None and text_score is not None:
        text = text_score.astype(np.float64)
        best = text.max() if len(text) else 0.0
        parts += WEIGHTS.text * coverage * (text / best if best > 0 else 0.0)
    parts += WEIGHTS.verified * YES_OR_NO["verified"](head, now)
    parts += WEIGHTS.rating * np.clip(head[BAYES] / 5.0, 0, 1)
    if dist is not None:
        parts += WEIGHTS.proximity * np.clip(1.0 - dist / query.radius_km, 0, 1)
    return parts
