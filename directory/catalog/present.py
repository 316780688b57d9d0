"""How the vocabulary reads on the public pages: each term's slug (what a query names) and its name
(what a visitor reads), never the row behind it."""

from directory.catalog import service

# The vocabularies the search page filters by.
SEARCH_FILTERS = ("techniques", "conditions", "client_groups")


def search_filters() -> dict[str, list[dict]]:
    return {
        name: [{"slug": slug, "name": label} for slug, label in service.terms(service.VOCABULARIES[name])]
        for name in SEARCH_FILTERS
    }
