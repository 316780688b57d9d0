"""Does a node's index say exactly what the database says? Read from the index files themselves.

tests/search/test_concurrency.py checks the index through searches for words each writer left
(the last one found, the earlier ones gone). This goes further, for any data: every practitioner has
one live document whose indexed terms, keywords and packed numbers are what the document builder
makes from the database now, and no document is left for a practitioner who is gone.
"""

from collections import defaultdict
from pathlib import Path

from directory.search import documents
from directory.search.facts import all_ids_in_batches, facts_for
from directory.search.index import IndexStore

FIELDS = ("text", "vocab", "lang")


def expected_documents() -> dict[str, dict]:
    """What the index should hold, from the database (needs an app context)."""
    schema = documents.schema()
    expected = {}
    for ids in all_ids_in_batches():
        for pid, facts in facts_for(ids).items():
            doc = documents.to_document(facts, documents.document_text(facts))
            expected[str(pid)] = {
                **{name: set(schema[name].process_text(doc[name], mode="index")) for name in FIELDS},
                "meta": doc["meta"],
            }
    return expected


def indexed_documents(data_dir: str | Path) -> tuple[dict[str, dict], list[str]]:
    """The practitioner documents a node's live index holds, and the pids found more than once."""
    ix = IndexStore(str(data_dir)).open()
    found: dict[str, dict] = {}
    twice: list[str] = []
    with ix.reader() as reader:
        live = set(reader.all_doc_ids())
        by_doc: dict[int, str] = {}
        for docnum in live:
            pid = reader.stored_fields(docnum)["pid"]
            if pid.startswith(documents.WORDS_PID_PREFIX):
                continue
            if pid in found:
                twice.append(pid)
            by_doc[docnum] = pid
            found[pid] = {name: set() for name in FIELDS}
        meta = reader.column_reader("meta")
        for docnum, pid in by_doc.items():
            found[pid]["meta"] = meta[docnum]
        terms: dict[tuple[str, int], set[str]] = defaultdict(set)
        for fieldname, text in reader.all_terms():
            if fieldname not in FIELDS:
                continue
            for docnum in reader.postings(fieldname, text).all_ids():
                if docnum in by_doc:
                    terms[(fieldname, docnum)].add(text.decode() if isinstance(text, bytes) else text)
        for (fieldname, docnum), words in terms.items():
            found[by_doc[docnum]][fieldname] = words
    ix.close()
    return found, twice


def mismatches(data_dir: str | Path) -> list[str]:
    """Every way the node's index differs from the database; empty when they agree."""
    expected = expected_documents()
    found, twice = indexed_documents(data_dir)
    problems = [f"practitioner {pid}: {twice.count(pid) + 1} live documents" for pid in sorted(set(twice))]
    for pid in sorted(expected.keys() - found.keys(), key=int):
        problems.append(f"practitioner {pid}: not in the index")
    for pid in sorted(found.keys() - expected.keys(), key=int):
        problems.append(f"practitioner {pid}: in the index but not in the database")
    for pid in sorted(expected.keys() & found.keys(), key=int):
        for name, value in expected[pid].items():
            if found[pid][name] != value:
                problems.append(
                    f"practitioner {pid}: {name} differs: index {found[pid][name]!r}, database {value!r}"
                )
    return problems
