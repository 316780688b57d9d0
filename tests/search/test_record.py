"""The search record is defined once (record.py): every field reaches the schema, the packed bytes and
the arrays by its one name, and no other module of the engine spells a field's name itself."""

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from directory.search import documents, record
from tests.search.ram_index import facts, view_of

SEARCH = Path(record.__file__).parent
HEAD_NAMES = tuple(c.name for c in record.HEAD)
NAMES = set(record.FIELDS) | set(HEAD_NAMES)
# Strings spelt like a record field that are another thing, never read from the index: the API's card
# and badge keys ("rating"), a consistency report's key ("pid"), and the keys of the summaries other
# domains hand to facts.py (credentials' "verified_until" and "verified_since", reviews' "bayes"), and the
# search argument "home_visits" the service reads and the engine names its facet after.
NOT_THE_RECORD = {
    ("present.py", "rating"),
    ("badges.py", "rating"),
    ("consistency.py", "pid"),
    ("facts.py", "verified_until"),
    ("facts.py", "bayes"),
    ("facts.py", "verified_since"),
    ("service.py", "home_visits"),
    ("engine.py", "home_visits"),
}


def test_the_schema_has_exactly_the_record_fields():
    assert set(documents.schema().names()) == set(record.FIELDS)
    person = facts(7, "alpha", slugs=["deep-tissue"], languages=["es"])
    assert set(documents.to_document(person, "alpha")) == set(record.FIELDS) - {record.WORDS}
    assert set(documents.words_document({"alpha"})) == {record.PID, record.WORDS}


def test_the_arrays_have_a_column_per_head_field_of_the_packed_width():
    assert record.HEAD_DTYPE.names == HEAD_NAMES
    for column in record.HEAD:
        assert np.dtype(column.dtype).itemsize == record.struct.calcsize("<" + column.code), column.name
    assert record.META_HEAD.size == record.HEAD_DTYPE.itemsize + 2  # and the place count


def test_indexes_on_disk_keep_their_layout():
    """A node reads the index it built before an upgrade: changing this layout needs a reindex."""
    assert record.META_HEAD.format == "<iqiHffIfiBHH" and record.META_PLACE.format == "<dd"
    assert record.LAYOUT.endswith(
        "<iqiHffIfiBHH,pid,accepting_until,verified_until,since,rating,bayes,"
        "reviews,dl,price_from,home_visits,verified_since"
    )


PERSON = facts(
    41,
    "alpha beta gamma",
    places=[(40.5, -75.25), (41.0, -74.0)],
    accepting_until=datetime(2026, 7, 1, tzinfo=UTC),
    verified_until=date(2027, 1, 31),
    practicing_since=2011,
    rating_average=4.25,
    rating_bayes=3.75,
    review_count=9,
    price_from=70,
    home_visits=True,
    verified_since=2013,
)


def test_every_field_travels_from_facts_through_the_bytes_into_the_arrays():
    blob = record.pack_meta(PERSON, 3)
    head, places = record.unpack_meta(blob)
    expected = [column.value(PERSON, 3) for column in record.HEAD]
    assert list(head) == [*expected, 2] and places == PERSON.places
    head = view_of(PERSON).head
    assert [head[name][0].item() for name in HEAD_NAMES] == expected
    assert expected == [
        41,
        int(datetime(2026, 7, 1, tzinfo=UTC).timestamp()),
        date(2027, 1, 31).toordinal(),
        2011,
        4.25,
        3.75,
        9,
        3.0,
        70,
        1,
        2013,
    ]


def test_an_unknown_value_packs_as_zero():
    head, places = record.unpack_meta(record.pack_meta(facts(5), 0))
    assert list(head) == [5, 0, 0, 0, 0.0, 0.0, 0, 0.0, 0, 0, 0, 0] and places == []


def _spelt_names(tree: ast.AST) -> set[str]:
    """Record names written as string literals where a field is read or written: an argument, a
    subscript, a dict key, or an element of a tuple tested for membership (`(field, term) in reader`)."""
    found = set()

    def note(node):
        if isinstance(node, ast.Constant) and node.value in NAMES:
            found.add(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                note(arg)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "Schema":  # fields.Schema(pid=...)
                found |= {k.arg for k in node.keywords if k.arg in NAMES}
        elif isinstance(node, ast.Subscript):
            note(node.slice)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                note(key)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Tuple):
            for element in node.left.elts:
                note(element)
    return found


@pytest.mark.parametrize(
    "path", sorted(p for p in SEARCH.rglob("*.py") if p.name != "record.py"), ids=lambda p: p.name
)
def test_no_other_module_spells_a_field_name(path):
    spelt = {(path.name, name) for name in _spelt_names(ast.parse(path.read_text()))}
    assert spelt - NOT_THE_RECORD == set()


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('head["bayes"]', {"bayes"}),
        ('view.postings("vocab", slug)', {"vocab"}),
        ('{"pid": 1, "text": t}', {"pid", "text"}),
        ('("words", w) in reader', {"words"}),
        ("fields.Schema(meta=column)", {"meta"}),
        ('reader.stored_fields(d).get("pid", "")', {"pid"}),
        ("head[record.BAYES]", set()),
        ('"""A docstring about the text field."""', set()),
        ('sort == "rating"', set()),
        ("Hit(pid=1)", set()),  # a dataclass's attribute, not the index's field
    ],
)
def test_the_scan_catches_a_spelt_name(source, caught):
    assert _spelt_names(ast.parse(source)) == caught
