"""Bulk demo data: `generate(count, seed)` writes synthetic practitioners over real US places.

Rows go in with Core bulk inserts, a batch at a time, each batch its own transaction; the ORM's flush
hook never sees Core inserts, so each batch writes its search outbox rows itself.

Emails are `demo-{seed}-{n}@example.org`. A second run with a seed already in the database carries on
after that seed's highest n, so it adds new practitioners instead of failing on the unique email, and
(because practitioner n depends only on seed and n, see profiles.py) two runs of 100 make the same
people as one run of 200.

Credentials and reviews are not generated yet; they plug in as `hooks`: callables that get each
`Batch` inside its transaction, before the outbox rows and the commit.
"""

import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from tqdm import tqdm

from directory.accounts.models import User
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.demo.places import PlacePicker, load_places
from directory.demo.profiles import DemoLocation, DemoPractitioner, make_practitioner
from directory.extensions import db, refresh_statistics, table_of
from directory.practitioners.models import (
    PracticeLocation,
    Practitioner,
    practitioner_client_groups,
    practitioner_conditions,
    practitioner_techniques,
)
from directory.search.outbox import write_rows
from directory.timeutil import now_utc

BATCH_SIZE = 1000


class DemoDataError(RuntimeError):
    """The database is not ready for demo data (the catalog is missing slugs the generator uses)."""


@dataclass(frozen=True)
class Catalog:
    """slug -> id for the vocabulary tables, read once per run."""

    techniques: dict[str, int]
    conditions: dict[str, int]
    client_groups: dict[str, int]


@dataclass(frozen=True)
class Batch:
    """One committed-together slice of the run, as a hook sees it. Use `profiles.record_rng(seed, n,
    purpose)` for randomness so what a hook adds is as repeatable as the profiles."""

    seed: int
    connection: sa.Connection
    now: datetime
    catalog: Catalog
    practitioners: Sequence[DemoPractitioner]
    user_ids: Sequence[int]
    practitioner_ids: Sequence[int]


BatchHook = Callable[[Batch], None]


def generate(
    count: int,
    seed: int = 1,
    progress: bool | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    hooks: Iterable[BatchHook] = (),
) -> dict:
    """Create `count` demo practitioners (inside an app context) and return
    {practitioners, locations, seconds, seed}. `progress=None` shows a bar only on a terminal."""
    if count < 0 or batch_size < 1:
        raise ValueError("count must be >= 0 and batch_size >= 1")
    started = time.perf_counter()
    hooks = tuple(hooks)
    catalog = load_catalog()
    places = load_places()
    first = next_number(seed)
    show = sys.stderr.isatty() if progress is None else progress
    locations = 0
    with tqdm(total=count, desc="Demo practitioners", unit="", file=sys.stderr, disable=not show) as bar:
        for start in range(first, first + count, batch_size):
            numbers = range(start, min(start + batch_size, first + count))
            try:
                locations += _write_batch(seed, numbers, places, catalog, hooks)
            except Exception:
                # Earlier batches stay committed (a re-run carries on after them); this one goes.
                db.session.rollback()
                raise
            bar.update(len(numbers))
    return {
        "practitioners": count,
        "locations": locations,
        "seconds": time.perf_counter() - started,
        "seed": seed,
        "statistics_refreshed": refresh_statistics(list(db.metadata.sorted_tables)),
    }


def load_catalog() -> Catalog:
    from directory.demo.texts import CLIENT_GROUPS, CONDITIONS, TECHNIQUES

    def ids(model, wanted: Iterable[str]) -> dict[str, int]:
        found = dict(db.session.execute(sa.select(model.slug, model.id)).tuples().all())
        missing = ", ".join(sorted(set(wanted) - set(found)))
        if missing:
            raise DemoDataError(
                f"{model.__tablename__} lacks {missing}: run the migrations (flask db upgrade)"
            )
        return found

    return Catalog(ids(Technique, TECHNIQUES), ids(Condition, CONDITIONS), ids(ClientGroup, CLIENT_GROUPS))


def next_number(seed: int) -> int:
    """1, or one past the highest n among this seed's demo emails already in the database."""
    pattern = re.compile(rf"demo-{re.escape(str(seed))}-(\d+)@example\.org")
    # Streamed (the ORM buffers a whole result otherwise): adding to a million demo practitioners of
    # this seed would hold a million emails at once.
    emails = db.session.scalars(
        sa.select(User.email)
        .where(User.email.like(f"demo-{seed}-%@example.org"))
        .execution_options(yield_per=5000)
    )
    numbers = (int(m.group(1)) for email in emails if (m := pattern.fullmatch(email)))
    return max(numbers, default=0) + 1


def _write_batch(
    seed: int, numbers: range, places: PlacePicker, catalog: Catalog, hooks: tuple[BatchHook, ...]
) -> int:
    """Insert one batch in one transaction; returns how many locations it made."""
    specs = [make_practitioner(seed, n, places) for n in numbers]
    now = now_utc()
    user_ids = _insert_returning_ids(table_of(User), [_user_row(p, now) for p in specs])
    practitioner_ids = _insert_returning_ids(
        table_of(Practitioner),
        [_practitioner_row(p, uid, now) for p, uid in zip(specs, user_ids, strict=True)],
    )
    pairs = list(zip(specs, practitioner_ids, strict=True))
    _insert(practitioner_techniques, _links(pairs, "techniques", "technique_id", catalog.techniques))
    _insert(practitioner_conditions, _links(pairs, "conditions", "condition_id", catalog.conditions))
    _insert(
        practitioner_client_groups, _links(pairs, "client_groups", "client_group_id", catalog.client_groups)
    )
    location_rows = [_location_row(loc, pid, now) for p, pid in pairs for loc in p.locations]
    _insert(table_of(PracticeLocation), location_rows)
    connection = db.session.connection()
    batch = Batch(seed, connection, now, catalog, specs, user_ids, practitioner_ids)
    for hook in hooks:
        hook(batch)
    write_rows(connection, practitioner_ids)
    db.session.commit()
    return len(location_rows)


def _insert_returning_ids(table: sa.Table, rows: list[dict]) -> list[int]:
    # RETURNING with executemany (SQLAlchemy 2's "insertmanyvalues", SQLite >= 3.35 and PostgreSQL);
    # sort_by_parameter_order pairs each id with its row rather than trusting the database's order.
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(statement, rows).scalars())


def _insert(table: sa.Table, rows: list[dict]) -> None:
    if rows:  # an empty executemany is an error
        db.session.execute(sa.insert(table), rows)


def _user_row(p: DemoPractitioner, now: datetime) -> dict:
    # No password: demo accounts cannot sign in.
    return {
        "email": p.email,
        "password_hash": None,  # nosec B105: no password at all
        "role": "practitioner",
        "created_at": now,
        "email_confirmed_at": now,  # demo accounts count as confirmed
    }


def _practitioner_row(p: DemoPractitioner, user_id: int, now: datetime) -> dict:
    return {
        "user_id": user_id,
        "display_name": p.display_name,
        "legal_name": p.legal_name,
        "headline": p.headline,
        "approach": p.approach,
        "practicing_since": p.practicing_since,
        "languages": list(p.languages),
        "accepting_clients": p.accepting_clients,
        "accepting_confirmed_at": now if p.accepting_clients else None,
        "mobile": p.mobile,
        "price_min": p.price_min,
        "price_max": p.price_max,
        "phone": p.phone,
        "website": p.website,
        "created_at": now,
        "updated_at": now,
    }


def _links(
    pairs: list[tuple[DemoPractitioner, int]], attribute: str, column: str, ids: dict[str, int]
) -> list[dict]:
    return [{"practitioner_id": pid, column: ids[slug]} for p, pid in pairs for slug in getattr(p, attribute)]


def _location_row(loc: DemoLocation, practitioner_id: int, now: datetime) -> dict:
    return {
        "practitioner_id": practitioner_id,
        "label": loc.label,
        "address": loc.address,
        "city": loc.city,
        "region": loc.region,
        "postal_code": loc.postal_code,
        "country": "US",
        "lat": loc.lat,
        "lon": loc.lon,
        "geocoded_from": "gazetteer",
        "created_at": now,
    }
