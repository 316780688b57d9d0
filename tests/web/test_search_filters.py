"""The search page offers every technique and condition of the vocabulary as a filter: the visitor
reads its name, the query carries its slug, and a chosen one stays chosen."""

import re

import pytest

from directory.catalog import service as catalog

OPTION = re.compile(r'<option value="([^"]+)" (selected)?\s*>([^<]+)</option>')


@pytest.mark.parametrize(("name", "parameter"), [("techniques", "technique"), ("conditions", "condition")])
def test_every_term_is_a_filter_named_for_the_visitor_and_sent_by_slug(client, name, parameter):
    terms = catalog.vocabulary()[name]
    chosen = terms[0].slug
    page = client.get("/", query_string={parameter: chosen}).get_data(as_text=True)
    offered = {value: (label, bool(selected)) for value, selected, label in OPTION.findall(page)}
    for row in terms:
        assert offered[row.slug] == (row.name, row.slug == chosen)
