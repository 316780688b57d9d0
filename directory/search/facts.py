"""Gather what search must know about practitioners from the database, a batch at a time.

Later domains (credentials, reviews) add their part in `contributors`: a function that takes the
batch of practitioners and their facts and fills in its fields (verified_until, ratings, texts).
"""

from collections.abc import Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.models import Practitioner
from directory.search.documents import SearchFacts

Contributor = Callable[[Sequence[Practitioner], dict[int, SearchFacts]], None]
contributors: list[Contributor] = []


def _base_facts(p: Practitioner) -> SearchFacts:
    names = (
        [t.name for t in p.techniques] + [c.name for c in p.conditions] + [g.name for g in p.client_groups]
    )
    places = [(loc.lat, loc.lon) for loc in p.locations]
    cities = [f"{loc.city} {loc.region}" for loc in p.locations]
    return SearchFacts(
        pid=p.id,
        texts=[p.display_name, p.headline, p.approach, *names, *cities],
        slugs=[t.slug for t in p.techniques]
        + [c.slug for c in p.conditions]
        + [g.slug for g in p.client_groups],
        languages=list(p.languages or []),
        places=places,
        accepting_until=practitioners.accepting_lapses_at(p),
        practicing_since=p.practicing_since,
    )


def facts_for(ids: Iterable[int]) -> dict[int, SearchFacts]:
    """Facts for the ids that exist; a missing id means the practitioner is gone."""
    rows = db.session.scalars(
        sa.select(Practitioner)
        .where(Practitioner.id.in_(list(ids)))
        .options(
            selectinload(Practitioner.techniques),
            selectinload(Practitioner.conditions),
            selectinload(Practitioner.client_groups),
            selectinload(Practitioner.locations),
        )
    ).all()
    facts = {p.id: _base_facts(p) for p in rows}
    for contribute in contributors:
        contribute(rows, facts)
    return facts


def all_ids_in_batches(size: int = 2000):
    """Every practitioner id, in order, a batch at a time (keyset paging keeps memory flat)."""
    last = 0
    while True:
        ids = db.session.scalars(
            sa.select(Practitioner.id).where(Practitioner.id > last).order_by(Practitioner.id).limit(size)
        ).all()
        if not ids:
            return
        yield ids
        last = ids[-1]
