"""Gather what search must know about practitioners from the database, a batch at a time.

Other domains add their part here (credentials now; reviews' ratings when they land).
"""

from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.models import Practitioner
from directory.search.record import SearchFacts


def _base_facts(p: Practitioner) -> SearchFacts:
    names = (
        [t.name for t in p.techniques] + [c.name for c in p.conditions] + [g.name for g in p.client_groups]
    )
    places = [(loc.lat, loc.lon) for loc in p.locations]
    cities = [f"{loc.city} {loc.region}" for loc in p.locations]
    return SearchFacts(
        pid=p.id,
        texts=[p.display_name, p.headline, p.approach, *names, *cities],
        spelling_text=p.approach,
        slugs=[t.slug for t in p.techniques]
        + [c.slug for c in p.conditions]
        + [g.slug for g in p.client_groups],
        languages=list(p.languages or []),
        places=places,
        accepting_until=practitioners.accepting_lapses_at(p),
        practicing_since=p.practicing_since,
        price_from=practitioners.lowest_price(p),
        home_visits=p.mobile,
    )


def facts_for(ids: Iterable[int]) -> dict[int, SearchFacts]:
    """Facts for the ids that are listed; a missing id means the practitioner is gone, or not listed
    until its owner confirms their email address (accounts/confirmation.py)."""
    rows = db.session.scalars(
        sa.select(Practitioner)
        .join(User, User.id == Practitioner.user_id)
        .where(Practitioner.id.in_(list(ids)), User.email_confirmed_at.is_not(None))
        .options(
            selectinload(Practitioner.techniques),
            selectinload(Practitioner.conditions),
            selectinload(Practitioner.client_groups),
            selectinload(Practitioner.locations),
        )
    ).all()
    facts = {p.id: _base_facts(p) for p in rows}
    _credentials(facts)
    _ratings(facts)
    return facts


def _ratings(facts: dict[int, SearchFacts]) -> None:
    """Ratings decide the `min_rating` filter and the rating sort; the page shows them from the database."""
    from directory.reviews.service import ratings

    for pid, summary in ratings(list(facts)).items():
        facts[pid].rating_average = summary["average"]
        facts[pid].review_count = summary["count"]
        facts[pid].rating_bayes = summary["bayes"]


def _credentials(facts: dict[int, SearchFacts]) -> None:
    """Issuer names are searchable; the live verified credential's expiry decides `verified` at
    query time (a badge lapses with its expiry even before the index hears of it)."""
    from directory.credentials import present as credentials

    found = credentials.of_practitioners(list(facts))
    for pid, items in found.items():
        summary = credentials.summary(items)
        facts[pid].verified_until = summary["verified_until"]
        facts[pid].verified_since = summary["verified_since"]
        facts[pid].texts.extend(c.issuer.name for c in items)


def all_ids_in_batches(size: int = 2000) -> Iterator[Sequence[int]]:
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
