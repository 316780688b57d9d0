"""Does a node's index say what the database says? Every practitioner's document, field by field.

The index stores only `pid`; the rest is postings and the packed `meta` column. So the document
the database implies now (facts_for → to_document, analysed by the schema's own fields) is compared
with what the index holds: the terms of each field gathered back from the postings, and the `meta`
bytes. Also: every practitioner indexed exactly once, no document for one who is gone, and every
spelling word of a practitioner in the suggester's vocabulary.

It reads every posting, so it is for checks (the crash bench, tests), not for the request path.
"""

from collections import defaultdict
from typing import Final, TypedDict

from whoosh.fields import FieldType
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from directory.search import documents
from directory.search.facts import all_ids_in_batches, facts_for
from directory.search.index import IndexStore
from directory.search.record import LANG, META, PID, TEXT, VOCAB, WORDS, WORDS_PID_PREFIX

FIELDS: Final = (TEXT, VOCAB, LANG)  # the analysed fields; `meta` is compared as bytes


class Mismatch(TypedDict):
    pid: int | str  # a practitioner's id; the document's pid text for one the database lacks
    problem: str


class Report(TypedDict):
    practitioners: int  # checked
    count: int  # mismatches found
    mismatches: list[Mismatch]  # the first `limit` of them


def _terms(field: FieldType, value: str) -> set[str]:
    return {term.decode() if isinstance(term, bytes) else term for term, *_ in field.index(value)}


def indexed_documents(
    reader: IndexReader,
) -> tuple[dict[str, list[int]], dict[int, dict[str, set[str]]], dict[int, bytes]]:
    """From a Whoosh reader: pid → live docnums, docnum → {field: terms}, docnum → meta bytes."""
    live = set(reader.all_doc_ids())
    by_pid: dict[str, list[int]] = defaultdict(list)
    for docnum in sorted(live):
        by_pid[reader.stored_fields(docnum).get(PID, "")].append(docnum)
    terms: dict[int, dict[str, set[str]]] = defaultdict(lambda: {f: set() for f in FIELDS})
    for fieldname in FIELDS:
        for term in reader.lexicon(fieldname):
            text = term.decode() if isinstance(term, bytes) else term
            for docnum in reader.postings(fieldname, term).all_ids():
                if docnum in live:
                    terms[docnum][fieldname].add(text)
    column = reader.column_reader(META)
    meta = {docnum: column[docnum] for docnum in live}
    return by_pid, terms, meta


def compare(searcher: Searcher, limit: int = 50) -> Report:
    """{"practitioners": n checked, "mismatches": [{"pid", "problem"}] (at most `limit`), "count": all}."""
    reader = searcher.reader()
    schema = searcher.schema
    by_pid, terms, meta = indexed_documents(reader)
    spelling = {w.decode() if isinstance(w, bytes) else w for w in reader.lexicon(WORDS)}
    problems: list[Mismatch] = []

    def problem(pid: int | str, what: str) -> None:
        problems.append({"pid": pid, "problem": what})

    checked = 0
    seen: set[str] = set()
    for ids in all_ids_in_batches():
        facts = facts_for(ids)
        for pid in ids:
            if pid not in facts:
                continue  # deleted since the batch was listed
            checked += 1
            key = str(pid)
            seen.add(key)
            docs = by_pid.get(key, [])
            if not docs:
                problem(pid, "missing from the index")
                continue
            if len(docs) > 1:
                problem(pid, f"indexed {len(docs)} times")
            text = documents.document_text(facts[pid])
            expected = documents.to_document(facts[pid], text)
            held = terms[docs[-1]]
            for fieldname in FIELDS:
                want = _terms(schema[fieldname], expected[fieldname])
                if held[fieldname] != want:
                    extra, lacking = sorted(held[fieldname] - want), sorted(want - held[fieldname])
                    problem(pid, f"{fieldname} differs: extra {extra[:5]}, lacking {lacking[:5]}")
            if meta[docs[-1]] != expected[META]:
                problem(pid, "meta differs (places, ratings, badges, dates or length)")
            lacking_words = documents.spelling_words(facts[pid]) - spelling
            if lacking_words:
                problem(pid, f"spelling words not indexed: {sorted(lacking_words)[:5]}")
    for key in by_pid:
        if key not in seen and not key.startswith(WORDS_PID_PREFIX):
            problem(key, "in the index but not in the database")
    return {"practitioners": checked, "count": len(problems), "mismatches": problems[:limit]}


def compare_store(store: IndexStore, limit: int = 50) -> Report:
    """compare() on a store's live index (IndexUnavailable when there is none or it is damaged)."""
    ix = store.open()
    with ix.searcher() as searcher:
        return compare(searcher, limit)
