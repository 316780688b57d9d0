"""A search index in memory from hand-made facts, for the engine's arithmetic (no database, no app).

The documents go through the same builder and schema as a node's index (documents.py), and the view
through the same arrays (arrays.py), so what is asserted on it is what a search computes.
"""

import uuid
from datetime import UTC, datetime

from whoosh.filedb.filestore import RamStorage

from directory.search import documents, engine
from directory.search.arrays import IndexView, ViewCache
from directory.search.record import PID, SearchFacts

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ANALYZER = documents.text_analyzer()


def facts(pid: int, text: str = "", **fields) -> SearchFacts:
    values = {"texts": [text], "spelling_text": text, "slugs": [], "languages": [], "places": []}
    values.update(fields)
    return SearchFacts(pid=pid, **values)


class _PrivateRamStorage(RamStorage):
    """Whoosh's RamStorage gives a writer's scratch files the folder <system temp>/MAIN.tmp, one path for
    every process, and a writer deletes that whole folder when done: two test workers writing at once
    lost each other's files. Each writer here gets a folder of its own."""

    def temp_storage(self, name=None):
        return super().temp_storage(f"{name or 'ram'}-{uuid.uuid4().hex}")


def view_of(*people: SearchFacts, words: set[str] | None = None, deleted: tuple[int, ...] = ()) -> IndexView:
    """The view over `people`, plus a spelling-words document of `words`, less the practitioners
    `deleted` afterwards (deletion marks in the segment, as an update leaves them)."""
    ix = _PrivateRamStorage().create_index(documents.schema())
    writer = ix.writer()
    for person in people:
        writer.add_document(**documents.to_document(person, documents.document_text(person)))
    if words:
        writer.add_document(**documents.words_document(words))
    writer.commit()
    if deleted:
        writer = ix.writer()
        for pid in deleted:
            writer.delete_by_term(PID, str(pid))
        writer.commit(merge=False)
    searcher = ix.searcher()
    view = ViewCache().view(searcher)
    view.searcher = searcher  # keep the readers the view reads postings through open
    return view


def run(view: IndexView, now: datetime = NOW, **query) -> engine.Outcome:
    q = engine.Query(**query)
    return engine.run(view, q, engine.plan(q.q, ANALYZER), now, {})


def relevance(outcome: engine.Outcome) -> dict[int, float]:
    return {hit.pid: hit.relevance for hit in outcome.hits}


def order(outcome: engine.Outcome) -> list[int]:
    return [hit.pid for hit in outcome.hits]
