"""Every read of a segment's file happens under that segment's lock.

A Whoosh segment is one file read by seeking: two threads reading it at once move the position
under each other. The postings warm-up thread once read a segment's term list without the lock
while searches read postings with it; the searches then failed with zlib errors and answered from
the database. Here each read through the reader is checked for the lock.
"""

import pytest

from directory.search import arrays
from directory.search.documents import LANG, TEXT
from directory.search.node import node

# The reader methods that read the segment's file.
READS = ("terms_from", "lexicon", "postings", "stored_fields", "__contains__", "column_reader")


class Watched:
    """A reader that records each file read made without `lock` held."""

    def __init__(self, reader, lock):
        self._reader, self._lock, self.unlocked = reader, lock, []

    def __getattr__(self, name):
        found = getattr(self._reader, name)
        if name not in READS:
            return found

        def read(*args, **kwargs):
            if not self._lock.locked():
                self.unlocked.append(name)
            return found(*args, **kwargs)

        return read

    def __contains__(self, key):
        if not self._lock.locked():
            self.unlocked.append("__contains__")
        return key in self._reader


@pytest.fixture
def segment(app, factory):
    for n in range(3):
        factory.practitioner(approach=f"trigger point work number{n}", languages=["en", "es"])
    assert node().ready_view(wait_seconds=60) is not None  # built, and caught up
    [reader] = [r for r, _ in node().searcher().reader().leaf_readers() if r.segment()]
    seg = arrays.SegmentArrays(reader)
    return seg, Watched(reader, seg.lock)


def test_warming_reads_every_term_under_the_lock(segment):
    seg, reader = segment
    seg.warm(reader)
    seg.spelling(reader, timeout=None)
    assert reader.unlocked == []
    # It did read: the words and languages are kept.
    assert len(seg.postings(reader, TEXT, "trigger")[0]) == 3
    assert len(seg.postings(reader, LANG, "es")[0]) == 3
    assert seg._postings.keys() >= {(TEXT, "trigger"), (TEXT, "number2"), (LANG, "en"), (LANG, "es")}


def test_searches_read_under_the_lock(segment):
    seg, reader = segment
    seg.postings(reader, TEXT, "trigger")
    seg.postings(reader, TEXT, "absentword")
    seg.facet_bits(reader, ((LANG, "en"),))
    arrays._lexicon(reader, LANG, seg.lock, chunk=1)
    assert reader.unlocked == []


def test_the_watch_sees_an_unlocked_read(segment):
    """The check itself: a read outside the lock is recorded."""
    _, reader = segment
    list(reader.lexicon(TEXT))
    assert reader.unlocked == ["lexicon"]
