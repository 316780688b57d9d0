"""Per-segment NumPy arrays over the Whoosh index, and the whole-index view a query runs on.

Whoosh segments never change once written (only their deletion marks do), so everything read from
a segment (the packed `meta` column, postings with their term frequencies) is read once and kept.
An `IndexView` stitches the segments of one index generation together with their deletions; a
query then filters, scores and sorts with vectorised arithmetic instead of Whoosh's collectors.
"""

import threading
import time
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import islice, takewhile
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from directory.search import spelling
from directory.search.record import DL, HEAD_DTYPE, LANG, META, META_HEAD, META_PLACE, PID, TEXT, VOCAB, WORDS

# A term's postings: document numbers, and the term's frequency (or BM25 score) in each.
Postings = tuple[NDArray[np.int32], NDArray[np.float32]]
# One segment of a view: its reader, the number of its first document in the view, its arrays.
Leaf = tuple[IndexReader, int, "SegmentArrays"]

K1, B = 1.2, 0.75  # BM25's usual constants
# What one generation's view keeps of the postings and scores searches asked for. Each write makes a
# new generation, and each would otherwise keep every term ever asked for (the words of a common
# one fill arrays the size of the index): under writes, one worker held some 600 MB of such copies.
VIEW_CACHE_BYTES = 32 * 1024 * 1024
# ... and more for a larger index, whose common words' arrays are larger: at a million, 32 MB held a
# handful of them, and every located search with text read its words' postings again.
VIEW_CACHE_BYTES_PER_DOC = 320


def view_cache_budget(documents: int) -> int:
    """What one view keeps of postings and scores: VIEW_CACHE_BYTES, or VIEW_CACHE_BYTES_PER_DOC a
    document when that is more (above about 105,000 documents)."""
    return max(VIEW_CACHE_BYTES, VIEW_CACHE_BYTES_PER_DOC * documents)


WARM_SEGMENT_DOCS = 2000  # smaller segments read their postings on demand, quickly
# A view of a new index (a process's first, or a rebuild swapped in) of at least this many documents
# scores its commonest words in the background, up to WARM_VIEW_SHARE of its postings budget. At a
# million a common word's first search joined and scored some 900,000 postings (tens of ms); a
# view after a write shares its segments with the one before and is not warmed (each write would
# cost that again).
WARM_VIEW_DOCS = 200_000
WARM_VIEW_SHARE = 0.5


class SegmentArrays:
    def __init__(self, reader: IndexReader):
        n: int = reader.doc_count_all()
        head = np.zeros(n, dtype=HEAD_DTYPE)
        loc_doc: list[int] = []
        loc_coords: list[tuple[float, float]] = []
        self._words_docs: list[int] = []  # documents that carry only spelling words (no meta)
        for docnum, blob in enumerate(reader.column_reader(META)):
            if not blob:
                self._words_docs.append(docnum)
                continue
            values = META_HEAD.unpack_from(blob)
            head[docnum] = values[:-1]
            for i in range(values[-1]):
                loc_doc.append(docnum)
                loc_coords.append(META_PLACE.unpack_from(blob, META_HEAD.size + i * META_PLACE.size))
        self.size = n
        # A column each, so a view of several segments joins them a column at a time (a copy each,
        # not a copy of the packed rows and another to split them into columns).
        self.columns = {name: np.ascontiguousarray(head[name]) for name in head.dtype.names or ()}
        # Places sorted by latitude here, once: a view merges the segments' sorted runs (a stable
        # sort over runs is a merge), where sorting a million places afresh each generation took
        # most of the time a new view cost.
        coords = np.asarray(loc_coords, dtype=np.float64).reshape(-1, 2)
        order = np.argsort(coords[:, 0], kind="stable")
        self.loc_doc = np.asarray(loc_doc, dtype=np.int32)[order]
        self.loc_lat, self.loc_lon = coords[order, 0], coords[order, 1]
        self._postings: dict[tuple[str, str], Postings] = {}
        self._bits: tuple[tuple[tuple[str, str], ...], NDArray[np.uint8]] | None = None
        # A Whoosh reader seeks and reads a shared file: one thread at a time per segment.
        self.lock = threading.Lock()
        self._spelling: SpellingTable | None = None
        self._spelling_lock = threading.Lock()
        self._spelling_ready: threading.Event | None = None
        self.warmed = threading.Event()  # set once warm() is done (or not needed)

    def postings(self, reader: IndexReader, fieldname: str, term: str) -> Postings:
        """A term's postings, kept once read. A term the segment lacks is not kept: what a query may
        ask about is unbounded (random words), what the segment holds is not."""
        key = (fieldname, term)
        found = self._postings.get(key)
        if found is None:
            with self.lock:
                found = self._postings.get(key)
                if found is None:
                    found = _read_postings(reader, fieldname, term)
                    if len(found[0]):
                        self._postings[key] = found
        return found

    def facet_bits(self, reader: IndexReader, values: tuple[tuple[str, str], ...]) -> NDArray[np.uint8]:
        """IndexView.facet_bits for this segment's documents alone (deleted ones too: a view leaves
        them out), kept for the last `values` asked: a new generation reuses the bits of the
        segments it shares with the previous one."""
        kept = self._bits
        if kept is not None and kept[0] == values:
            return kept[1]
        bits = np.zeros((self.size, (len(values) + 7) // 8), dtype=np.uint8)
        for b, (fieldname, term) in enumerate(values):
            bits[self.postings(reader, fieldname, term)[0], b // 8] |= np.uint8(1 << (b % 8))
        self._bits = (values, bits)
        return bits

    def warm(self, reader: IndexReader) -> None:
        """Read every term's postings now, so no search pays for a first read (a common word
        in a large segment takes tens of milliseconds), and start the spelling table's build.
        Runs in a background thread."""
        self.spelling(reader, timeout=0)
        try:
            # The vocabulary and languages too: every search counts them as facets.
            for fieldname in (VOCAB, LANG, TEXT):
                # Under the lock, as every read of the segment's shared file: a term list read
                # beside a search's postings read moved the file under it (a zlib error, and
                # the search answered from the database).
                for term in _lexicon(reader, fieldname, self.lock):
                    self.postings(reader, fieldname, term)
        except Exception:  # noqa: BLE001 - the reader was closed under us (a newer generation): stop
            return
        finally:
            self.warmed.set()

    def text_counts(self) -> dict[str, int]:
        """How many of this segment's documents hold each text term read so far (all of them once
        warmed)."""
        return {
            term: len(found[0])
            for (fieldname, term), found in list(self._postings.items())
            if fieldname == TEXT
        }

    def spelling(self, reader: IndexReader, timeout: float | None = None) -> "SpellingTable | None":
        """This segment's spelling table, or None if it is not built within `timeout` seconds (None:
        wait for it). It is built in a thread of its own, started by the first call, so a search
        never spends more than its wait on it: one that finds it unready answers without a
        suggestion, and a later one has it."""
        with self._spelling_lock:
            ready = self._spelling_ready
            if ready is None:
                ready = self._spelling_ready = threading.Event()
                threading.Thread(
                    target=self._build_spelling, args=(reader, ready), daemon=True, name="spelling"
                ).start()
        ready.wait(timeout)
        return self._spelling

    def _build_spelling(self, reader: IndexReader, ready: threading.Event) -> None:
        try:
            self._spelling = SpellingTable(self._vocabulary(reader))
        except Exception:  # noqa: BLE001 - the reader was closed under us: the next search starts again
            with self._spelling_lock:
                self._spelling_ready = None
        finally:
            ready.set()

    def _vocabulary(self, reader: IndexReader) -> list[str]:
        """The segment's spelling words, from the stored text of its words documents (a read each);
        an index written before that text was stored is read term by term instead."""
        found: dict[str, None] = {}
        with self.lock:
            for docnum in self._words_docs:
                stored = reader.stored_fields(docnum).get(WORDS)
                if stored is None:
                    break
                found.update(dict.fromkeys(stored.lower().split()))
            else:
                return list(found)
        return _lexicon(reader, WORDS, self.lock)


class SpellingTable:
    """Symmetric-delete spelling: each word filed under every deletion variant of up to two letters
    (spelling.deletes), so the known words near a typed one are found by looking up its own variants,
    not by a scan of the vocabulary. A variant is kept as its 64-bit hash (spelling.variant_hashes)
    beside the number of its word, both sorted by hash: 12 bytes a variant, found by binary search,
    and built by array arithmetic rather than by making strings."""

    def __init__(self, words: list[str]):
        # Words an index built before the bounds may hold are left out here too.
        self.words = [w for w in words if spelling.spellable(w)]
        keys, owners, shallow = spelling.variant_hashes(self.words)
        order = np.argsort(keys)
        self.keys, self.owners, self.shallow = keys[order], owners[order], shallow[order]

    def __len__(self) -> int:
        """How many variants the table holds."""
        return len(self.keys)

    def lookup(self, probes: "Probes", within_one: bool = False) -> set[str]:
        """The words filed under any of the probes. `within_one`: only variants lacking at most one
        letter, on both sides, which finds every word one edit away (and some two away) among far
        fewer candidates: a deletion or an insertion is a word filed under itself or found as one,
        a changed letter or two swapped ones a variant both share with one letter out."""
        hashes = probes.hashes[probes.shallow] if within_one else probes.hashes
        starts = np.searchsorted(self.keys, hashes, side="left")
        stops = np.searchsorted(self.keys, hashes, side="right")
        hit = stops > starts
        if not hit.any():
            return set()
        ranges = [slice(a, b) for a, b in zip(starts[hit], stops[hit], strict=True)]
        numbers = np.concatenate(
            [self.owners[r][self.shallow[r]] if within_one else self.owners[r] for r in ranges]
        )
        return {self.words[n] for n in np.unique(numbers).tolist()}


@dataclass
class Probes:
    """What SpellingTable.lookup looks for, to find the known words within two edits of a word."""

    hashes: np.ndarray
    shallow: np.ndarray  # lacking at most one letter


def probe_hashes(word: str) -> Probes:
    keys, _, shallow = spelling.variant_hashes([word])
    return Probes(keys, shallow)


def _lexicon(reader: IndexReader, fieldname: str, lock: threading.Lock, chunk: int = 2000) -> list[str]:
    """Every term of a field, read a chunk at a time so searches reading postings of the same
    segment (which takes the lock too) wait for a chunk at most, not for the whole vocabulary."""
    terms: list[bytes] = []
    after = b""
    while True:
        with lock:
            batch = [
                text
                for _, text in islice(
                    takewhile(lambda term: term[0] == fieldname, reader.terms_from(fieldname, after)), chunk
                )
            ]
        full = len(batch) == chunk
        if terms and batch and batch[0] == after:
            batch = batch[1:]  # terms_from starts at the term given
        terms.extend(batch)
        if not full or not batch:
            return [t.decode() if isinstance(t, bytes) else t for t in terms]
        after = terms[-1]


def _read_postings(reader: IndexReader, fieldname: str, term: str) -> Postings:
    if (fieldname, term) not in reader:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    matcher = reader.postings(fieldname, term)
    ids: list[int] = []
    weights: list[float] = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        # Whole blocks at a time: the public one-posting-at-a-time loop is ~100x slower, and a
        # common word has a posting in most documents. (whoosh-reloaded 2.7.5 is pinned.)
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:  # pragma: no cover - another Whoosh codec
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32)


class ArrayCache:
    """Arrays by key, the least recently used let go once they hold more than `budget` bytes."""

    def __init__(self, budget: int = VIEW_CACHE_BYTES):
        self.budget = budget
        self.bytes = 0
        self._items: OrderedDict[tuple[str, ...], Postings] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Postings | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], value: Postings) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.bytes += sum(a.nbytes for a in value)
            while self.bytes > self.budget and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= sum(a.nbytes for a in dropped)

    def __len__(self) -> int:
        return len(self._items)


class Columns:
    """The packed head as one contiguous array per field (a struct of arrays): a filter reads a
    column at memory speed, where a field of the packed rows is read with a stride, and a result set
    gathers only the columns it reads (`take`)."""

    def __init__(self, columns: dict[str, NDArray[Any]], size: int):
        self._columns = columns
        self._size = size

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self._columns[name]

    def __len__(self) -> int:
        return self._size

    def take(self, idx: NDArray[np.intp]) -> "Columns":
        """The rows `idx`, each column gathered when first read."""
        return _Taken(self, idx)


class _Taken(Columns):
    def __init__(self, base: Columns, idx: NDArray[np.intp]):
        super().__init__({}, len(idx))
        self._base, self._idx = base, idx

    def __getitem__(self, name: str) -> NDArray[Any]:
        found = self._columns.get(name)
        if found is None:
            found = self._columns[name] = self._base[name][self._idx]
        return found


@dataclass
class IndexView:
    """One index generation, as arrays indexed by a dense document number."""

    leaves: list[Leaf]
    alive: NDArray[np.bool_]
    head: Columns  # the HEAD_DTYPE fields, a column each, one row a document
    loc_doc: NDArray[np.int32]  # the document of each place, places sorted by latitude
    loc_lat: NDArray[np.float64]
    loc_lon: NDArray[np.float64]
    doc_count: int
    avgdl: float
    # (field, term) → its postings, and ("bm25", field, term) → its BM25 scores
    _postings: ArrayCache = field(default_factory=ArrayCache)
    _bits: dict[tuple[tuple[str, str], ...], NDArray[np.uint8]] = field(default_factory=dict)  # facet_bits
    _languages: list[str] | None = None  # languages(), read once
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def postings(self, fieldname: str, term: str) -> Postings:
        """Live documents holding the term, with its frequency in each (kept unless there are none:
        see SegmentArrays.postings)."""
        key = (fieldname, term)
        cached = self._postings.get(key)
        if cached is None:
            with self._lock:
                parts = [(seg.postings(reader, fieldname, term), base) for reader, base, seg in self.leaves]
            ids = np.concatenate([p[0] + base for p, base in parts]) if parts else np.empty(0, np.int32)
            tfs = np.concatenate([p[1] for p, _ in parts]) if parts else np.empty(0, np.float32)
            keep = self.alive[ids]
            cached = (ids[keep], tfs[keep])
            if len(cached[0]):
                self._postings.put(key, cached)
        return cached

    def doc_keys(self, docs: list[int]) -> list[tuple[str, int]]:
        """Each document's identity beyond this view: its segment's id and its number in the segment
        (a segment never changes once written, so neither does the document)."""
        bases = [base for _, base, _ in self.leaves]
        keys = []
        for doc in docs:
            reader, base, _ = self.leaves[bisect_right(bases, doc) - 1]
            keys.append((reader.segment().segment_id(), doc - base))
        return keys

    def languages(self) -> list[str]:
        """Every language code a document of this generation holds (ISO 639-1: a few dozen at most),
        read once from the segments' term lists."""
        if self._languages is None:
            with self._lock:
                found = {code for reader, _, seg in self.leaves for code in _lexicon(reader, LANG, seg.lock)}
            self._languages = sorted(found)
        return self._languages

    def facet_bits(self, values: tuple[tuple[str, str], ...]) -> NDArray[np.uint8]:
        """One bit per facet value (a (field, term) pair) for every document, eight to a byte: facet
        counts over a result set are then one gather of its rows and one histogram (bit_counts)."""
        bits = self._bits.get(values)
        if bits is None:
            width = (len(values) + 7) // 8
            parts = [seg.facet_bits(reader, values) for reader, _, seg in self.leaves]
            bits = np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.uint8)
            self._bits[values] = bits
        return bits

    def spelling_candidates(
        self, word: str, deadline: float | None = None, within_one: bool = False
    ) -> set[str] | None:
        """Known words within two edits of `word` (by shared deletions; verify the distance), or only
        those sharing a variant that lacks at most one letter (SpellingTable.lookup), or None if a
        segment's spelling table is not ready by `deadline` (time.monotonic(); None: wait). A word
        spelling.py does not allow to be corrected has none."""
        if not spelling.spellable(word):
            return set()
        probes = probe_hashes(word)
        found: set[str] = set()
        for reader, _, seg in self.leaves:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            table = seg.spelling(reader, timeout)
            if table is None:
                return None
            found |= table.lookup(probes, within_one)
        return found

    def bm25(self, fieldname: str, term: str) -> Postings:
        key = ("bm25", fieldname, term)
        cached = self._postings.get(key)
        if cached is None:
            ids, tf = self.postings(fieldname, term)
            if len(ids):
                idf = np.log(1.0 + (self.doc_count - len(ids) + 0.5) / (len(ids) + 0.5))
                dl = self.head[DL][ids]
                tf = (idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / self.avgdl))).astype(np.float32)
                self._postings.put(key, (ids, tf))
            cached = (ids, tf)
        return cached


# Which of a byte's eight bits each of its 256 values has set.
_BYTE_BITS = (np.arange(256)[:, None] >> np.arange(8)) & 1


def bit_counts(rows: NDArray[np.uint8], width: int) -> list[int]:
    """How many of `rows` (facet_bits rows) have each of bits 0..width-1 set: a histogram of each
    byte column's values, times which bits each value has. A histogram per column, not one over all
    columns offset into bins of their own: that made an integer copy eight times the rows' size, and
    took four times as long over a large result."""
    nbytes = rows.shape[1]
    if not len(rows) or not nbytes:
        return [0] * width
    hist = np.stack([np.bincount(rows[:, k], minlength=256) for k in range(nbytes)])
    return [int(n) for n in (hist @ _BYTE_BITS).ravel()[:width]]


def _leaves(reader: IndexReader) -> list[tuple[IndexReader, int]]:
    # An index without segments has one EmptyReader leaf, with no segment at all.
    return [(r, base) for r, base in reader.leaf_readers() if r.segment() is not None]


def warm_commonest(view: IndexView, wait_seconds: float = 600.0) -> list[str]:
    """Score the view's commonest text words now (IndexView.bm25), most common first, until their
    arrays would fill WARM_VIEW_SHARE of the view's budget; returns them. Waits for the segments'
    own warm-up first, which counts every word. Runs in a background thread."""
    deadline = time.monotonic() + wait_seconds
    counts: dict[str, int] = {}
    for _, _, seg in view.leaves:
        if not seg.warmed.wait(max(0.0, deadline - time.monotonic())):
            return []
        for term, n in seg.text_counts().items():
            counts[term] = counts.get(term, 0) + n
    room = view._postings.budget * WARM_VIEW_SHARE
    warmed: list[str] = []
    # Ties by the word, so which words are warmed does not depend on the order they were read in.
    for term, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        room -= 16 * n  # postings and scores: a document number and a float each, 4 bytes apiece
        if room < 0:
            break
        view.bm25(TEXT, term)
        warmed.append(term)
    return warmed


class ViewCache:
    """Segment arrays survive across generations; a view is rebuilt when the generation changes."""

    def __init__(self) -> None:
        self._segments: dict[str, SegmentArrays] = {}
        self._view_key: tuple[tuple[str, int, int], ...] | None = None
        self._view: IndexView | None = None
        self._lock = threading.Lock()

    def view(self, searcher: Searcher) -> IndexView:
        reader = searcher.reader()
        leaves = _leaves(reader)
        key = tuple((r.segment().segment_id(), r.segment().deleted_count(), base) for r, base in leaves)
        with self._lock:
            view = self._view
            if view is None or key != self._view_key:
                before = {seg_id for seg_id, _, _ in self._view_key or ()}
                view = self._view = self._build(leaves, self._segment_arrays(leaves))
                self._view_key = key
                if view.doc_count >= WARM_VIEW_DOCS and not before & {seg_id for seg_id, _, _ in key}:
                    threading.Thread(
                        target=warm_commonest, args=(view,), daemon=True, name="warm-view"
                    ).start()
            return view

    def other(self, searcher: Searcher) -> IndexView:
        """A view of another generation (a walk's, pinned: walks.py), sharing the arrays of the
        segments it has in common with the live one; the live view and its cache are left as they are."""
        leaves = _leaves(searcher.reader())
        with self._lock:
            arrays = [self._segments.get(r.segment().segment_id()) or SegmentArrays(r) for r, _ in leaves]
        return self._build(leaves, arrays)

    def _segment_arrays(self, leaves: list[tuple[IndexReader, int]]) -> list[SegmentArrays]:
        """The arrays of each leaf's segment: kept ones, or read now (and warmed, if large); the
        segments merged away are let go."""
        live_ids: set[str] = set()
        arrays: list[SegmentArrays] = []
        for reader, _ in leaves:
            seg_id = reader.segment().segment_id()
            live_ids.add(seg_id)
            if seg_id not in self._segments:
                seg = self._segments[seg_id] = SegmentArrays(reader)
                if seg.size >= WARM_SEGMENT_DOCS:
                    threading.Thread(
                        target=seg.warm, args=(reader,), daemon=True, name="warm-postings"
                    ).start()
                else:
                    seg.warmed.set()
            arrays.append(self._segments[seg_id])
        for stale in set(self._segments) - live_ids:  # merged away
            del self._segments[stale]
        return arrays

    @staticmethod
    def _build(leaves: list[tuple[IndexReader, int]], arrays: list[SegmentArrays]) -> IndexView:
        parts: list[Leaf] = [(reader, base, seg) for (reader, base), seg in zip(leaves, arrays, strict=True)]
        total = sum(seg.size for _, _, seg in parts)
        alive = np.ones(total, dtype=bool)
        head = Columns(
            {
                name: np.concatenate([seg.columns[name] for _, _, seg in parts])
                if parts
                else np.zeros(0, HEAD_DTYPE[name])
                for name in HEAD_DTYPE.names or ()
            },
            total,
        )
        alive &= head[PID] > 0  # spelling-word documents are not practitioners
        for reader, base, _ in parts:
            if reader.has_deletions():
                alive[np.fromiter(reader.segment().deleted_docs(), dtype=np.int64) + base] = False
        loc_doc = (
            np.concatenate([seg.loc_doc + base for _, base, seg in parts]) if parts else np.zeros(0, np.int32)
        )
        loc_lat = np.concatenate([seg.loc_lat for _, _, seg in parts]) if parts else np.zeros(0)
        loc_lon = np.concatenate([seg.loc_lon for _, _, seg in parts]) if parts else np.zeros(0)
        keep = alive[loc_doc] if len(loc_doc) else np.zeros(0, bool)
        # Places sorted by latitude: a radius search binary-searches its latitude band (engine.py).
        # Each segment's are sorted already: the stable sort (a timsort) merges those runs.
        order = np.argsort(loc_lat[keep], kind="stable")
        doc_count = int(alive.sum())
        avgdl = float(head[DL][alive].mean()) if doc_count else 1.0
        return IndexView(
            parts,
            alive,
            head,
            loc_doc[keep][order],
            loc_lat[keep][order],
            loc_lon[keep][order],
            doc_count,
            max(avgdl, 1.0),
            ArrayCache(view_cache_budget(doc_count)),
        )
