"""How the vocabulary reads on the public pages: each term's slug (what a query names) and its name
(what a visitor reads), never the row behind it."""

from directory.catalog import service

# The vocabularies the search page filters by.
SEARCH_FILTERS = ("techniques", "conditions", "client_groups")


def term(row) -> dict:
    return {"slug": row.slug, "name": row.name}


def search_filters() -> dict[str, list[dict]]:
    vocabulary = service.vocabulary()
    return {name: [term(row) for row in vocabulary[name]] for name in SEARCH_FILTERS}
