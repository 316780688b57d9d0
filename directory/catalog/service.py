"""The controlled vocabulary: what profiles may name, and the lookups that enforce it."""

import re
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from directory.catalog.models import ClientGroup, Condition, Issuer, Technique
from directory.extensions import db

# A term of one of the vocabularies a profile names (each has a slug and a name).
Term = Technique | Condition | ClientGroup
T = TypeVar("T", bound=Term)

VOCABULARIES: dict[str, type[Term]] = {
    "techniques": Technique,
    "conditions": Condition,
    "client_groups": ClientGroup,
}


def all_of(model: type[T]) -> list[T]:
    return list(db.session.scalars(sa.select(model).order_by(model.name)))


def terms(model: type[Term]) -> list[tuple[str, str]]:
    """(slug, name) of each term of one vocabulary, by name, read once per app: the catalog is seeded
    by a migration (0002) and changes only with another, which the app is restarted for. Every
    search and search page needs them; reading them each time was three statements a page."""
    key = f"directory_terms_{model.__tablename__}"
    cached = current_app.extensions.get(key)
    if not isinstance(cached, list):  # None: not read yet
        cached = current_app.extensions[key] = [(row.slug, row.name) for row in all_of(model)]
    return cached


def vocabulary() -> dict[str, list[Term]]:
    return {name: all_of(model) for name, model in VOCABULARIES.items()}


def issuers() -> list[Issuer]:
    return list(db.session.scalars(sa.select(Issuer).order_by(Issuer.name)))


SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def unknown_slugs(model: type[Term], slugs: list[str]) -> list[str]:
    # Only slug-shaped text is looked up: anything else (control characters, NUL, which PostgreSQL
    # refuses in a query) is unknown without asking the database.
    candidates = {s for s in slugs if SLUG.fullmatch(s)}
    known = (
        set(db.session.scalars(sa.select(model.slug).where(model.slug.in_(candidates))))
        if candidates
        else set()
    )
    return [s for s in slugs if s not in known]


def by_slugs(model: type[T], slugs: list[str]) -> list[T]:
    """Rows for the slugs, in the order given, duplicates dropped. Unknown slugs must be refused first."""
    rows = {r.slug: r for r in db.session.scalars(sa.select(model).where(model.slug.in_(set(slugs))))}
    return [rows[s] for s in dict.fromkeys(slugs) if s in rows]
