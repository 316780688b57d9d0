"""The app's URL rules write their link builders on first use (directory/web/routing.py): the links
must be exactly what Werkzeug's own rules build, known and unknown arguments alike."""

import pytest
from werkzeug.routing import Map, Rule

from directory.web.routing import LazyRule

RULES = [
    ("/practitioners/<int:practitioner_id>", "profile", {}),
    ("/search/", "search", {}),
    ("/files/<path:name>", "file", {}),
    ("/reviews/<int:page>", "reviews", {"page": 1}),
    ("/<lang>/about", "about", {}),
]
VALUES = [
    ("profile", {"practitioner_id": 42}),
    ("profile", {"practitioner_id": 7, "tab": "reviews", "q": "jaw pain & more"}),
    ("search", {"q": "trigger point", "radius_km": 25, "page": [1, 2]}),
    ("file", {"name": "a/b c.pdf"}),
    ("reviews", {}),
    ("reviews", {"page": 3}),  # not buildable: a default fixes the page (Werkzeug refuses it too)
    ("about", {"lang": "dé"}),
]


def _adapter(rule_class):
    return Map(
        [rule_class(path, endpoint=endpoint, defaults=defaults or None) for path, endpoint, defaults in RULES]
    ).bind("directory.test", "/")


def _outcome(adapter, endpoint, values, external=False):
    try:
        return adapter.build(endpoint, values, force_external=external)
    except Exception as refusal:  # the same refusal counts as the same outcome
        return type(refusal).__name__


@pytest.mark.parametrize("endpoint,values", VALUES)
@pytest.mark.parametrize("external", [False, True])
def test_links_are_what_werkzeug_builds(endpoint, values, external):
    lazy, eager = _adapter(LazyRule), _adapter(Rule)
    assert _outcome(lazy, endpoint, values, external) == _outcome(eager, endpoint, values, external)
    # A second build uses the builder written by the first.
    assert _outcome(lazy, endpoint, values) == _outcome(eager, endpoint, values)


def test_the_app_builds_its_links_with_lazy_rules(app):
    assert all(isinstance(rule, LazyRule) for rule in app.url_map.iter_rules() if rule.endpoint != "static")
    with app.test_request_context():
        from flask import url_for

        assert (
            url_for("practitioners.profile", practitioner_id=12, tab="reviews")
            == "/practitioners/12?tab=reviews"
        )
