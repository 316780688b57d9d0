"""Writing practitioners' documents into a Whoosh writer: everyone (a build) or a changed few (catch-up)."""

from collections.abc import Callable, Sequence

from whoosh.writing import IndexWriter

from directory.catalog import service as catalog
from directory.extensions import db
from directory.search import documents
from directory.search.facts import all_ids_in_batches, facts_for
from directory.search.record import PID, WORDS


def add_everyone(writer: IndexWriter, on_batch: Callable[[int], object]) -> int:
    """Every listed practitioner's document, then one document of every spelling word; returns how
    many practitioners were written (the words document also holds the domain's words, so it is written
    for an empty directory too). `on_batch(n)` after each batch of n ids (a progress bar)."""
    count = 0
    words = domain_words()
    for ids in all_ids_in_batches():
        count += add_batch(writer, ids, words)
        on_batch(len(ids))
    writer.add_document(**documents.words_document(words))
    return count


def domain_words() -> set[str]:
    """The spelling words every build starts from: the domain's own, before any practitioner's."""
    return documents.domain_words(term.name for terms in catalog.vocabulary().values() for term in terms)


def add_batch(writer: IndexWriter, ids: Sequence[int], words: set[str]) -> int:
    """The listed practitioners among `ids` into the writer, their spelling words into `words`;
    returns how many were written."""
    count = 0
    for facts in facts_for(ids).values():
        text = documents.document_text(facts)
        words |= documents.spelling_words(facts)
        writer.add_document(**documents.to_document(facts, text))
        count += 1
    db.session.expunge_all()  # keep memory flat on large directories
    return count


def apply_changes(writer: IndexWriter, practitioner_ids: set[int]) -> None:
    """Rewrite each practitioner's document from the database, or delete it when they are gone (or
    no longer listed); spelling words the index has not seen yet go into one new words document."""
    facts = facts_for(practitioner_ids)
    words: set[str] = set()
    for pid in sorted(practitioner_ids):
        if pid in facts:
            text = documents.document_text(facts[pid])
            words |= documents.spelling_words(facts[pid])
            writer.update_document(**documents.to_document(facts[pid], text))
        else:
            writer.delete_by_term(PID, str(pid))
    with writer.reader() as reader:
        new_words = {w for w in words if (WORDS, w) not in reader}
    if new_words:
        writer.add_document(**documents.words_document(new_words))
