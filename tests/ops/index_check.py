"""Does a node's index say exactly what the database says? Read from the index files themselves.

tests/search/test_concurrency.py checks the index through searches for words each writer left
(the last one found, the earlier ones gone). This goes further, for any data, through
directory/search/consistency.py (which the crash bench uses too): every practitioner has one live
document whose indexed terms, keywords, spelling words and packed numbers are what the document
builder makes from the database now, and no document is left for a practitioner who is gone.
"""

from pathlib import Path

from directory.search.consistency import compare_store
from directory.search.index import IndexStore


def mismatches(data_dir: str | Path) -> list[str]:
    """Every way the node's index differs from the database (needs an app context); empty when they agree."""
    found = compare_store(IndexStore(str(data_dir)), limit=1000)
    return [f"practitioner {m['pid']}: {m['problem']}" for m in found["mismatches"]]
