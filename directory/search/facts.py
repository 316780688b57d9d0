"""Gather what search must know about practitioners from the database, a batch at a time.

Other domains add their part here (credentials now; reviews' ratings when they land).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa

from directory.accounts.models import User
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.models import (
    PracticeLocation,
    Practitioner,
    practitioner_client_groups,
    practitioner_conditions,
    practitioner_techniques,
)
from directory.search.record import SearchFacts

# Read as rows, not as ORM objects: a rebuild reads every practitioner, and loading them (with their
# collections) as objects was a third of its time.
_TERMS = (
    (Technique, practitioner_techniques, practitioner_techniques.c.technique_id),
    (Condition, practitioner_conditions, practitioner_conditions.c.condition_id),
    (ClientGroup, practitioner_client_groups, practitioner_client_groups.c.client_group_id),
)


def facts_for(ids: Iterable[int]) -> dict[int, SearchFacts]:
    """Facts for the ids that are listed; a missing id means the practitioner is gone, or not listed
    until its owner confirms their email address (accounts/confirmation.py)."""
    wanted = list(ids)
    rows = db.session.execute(
        sa.select(
            Practitioner.id,
            Practitioner.display_name,
            Practitioner.headline,
            Practitioner.approach,
            Practitioner.languages,
            Practitioner.accepting_clients,
            Practitioner.accepting_confirmed_at,
            Practitioner.practicing_since,
            Practitioner.mobile,
            practitioners.lowest_price_sql().label("lowest_price"),
        )
        .join(User, User.id == Practitioner.user_id)
        .where(Practitioner.id.in_(wanted), User.email_confirmed_at.is_not(None))
    ).all()
    listed = [row.id for row in rows]
    names, slugs = _terms(listed)
    places = _places(listed)
    facts = {}
    for row in rows:
        where = places.get(row.id, [])
        facts[row.id] = SearchFacts(
            pid=row.id,
            texts=[row.display_name, row.headline, row.approach, *names[row.id], *(c for _, _, c in where)],
            spelling_text=row.approach,
            slugs=slugs[row.id],
            languages=list(row.languages or []),
            places=[(lat, lon) for lat, lon, _ in where],
            accepting_until=practitioners.accepting_lapse(row.accepting_clients, row.accepting_confirmed_at),
            practicing_since=row.practicing_since,
            price_from=row.lowest_price,
            home_visits=row.mobile,
        )
    _credentials(facts)
    _ratings(facts)
    return facts


def _terms(ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Each practitioner's technique, condition and client-group names and slugs, in that order and by
    name within each (as the profile lists them)."""
    names: dict[int, list[str]] = defaultdict(list)
    slugs: dict[int, list[str]] = defaultdict(list)
    for model, link, term_id in _TERMS:
        found = db.session.execute(
            sa.select(link.c.practitioner_id, model.name, model.slug)
            .join(model, model.id == term_id)
            .where(link.c.practitioner_id.in_(ids))
            .order_by(link.c.practitioner_id, model.name)
        )
        for pid, name, slug in found:
            names[pid].append(name)
            slugs[pid].append(slug)
    return names, slugs


def _places(ids: list[int]) -> dict[int, list[tuple[float, float, str]]]:
    """Each practitioner's places as (lat, lon, "city region"), in the order they were added."""
    found: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(
            PracticeLocation.practitioner_id,
            PracticeLocation.lat,
            PracticeLocation.lon,
            PracticeLocation.city,
            PracticeLocation.region,
        )
        .where(PracticeLocation.practitioner_id.in_(ids))
        .order_by(PracticeLocation.practitioner_id, PracticeLocation.id)
    )
    for pid, lat, lon, city, region in rows:
        found[pid].append((lat, lon, f"{city} {region}"))
    return found


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
