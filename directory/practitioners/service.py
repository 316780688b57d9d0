"""Profile rules: saving a profile, confirming availability, adding and removing places."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from directory.accounts.models import User
from directory.catalog import service as catalog
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.extensions import db
from directory.geo.geocoder import GeocodingUnavailable, get_geocoder
from directory.practitioners.models import (
    PracticeLocation,
    Practitioner,
    practitioner_client_groups,
    practitioner_conditions,
    practitioner_techniques,
)
from directory.rules import Data, RuleError
from directory.timeutil import now_utc, today_utc

MAX_LOCATIONS = 10
SCALAR_FIELDS = (
    "display_name",
    "headline",
    "approach",
    "practicing_since",
    "languages",
    "mobile",
    "price_min",
    "price_max",
    "phone",
    "website",
)


def profile_of(user: User) -> Practitioner | None:
    return db.session.scalar(sa.select(Practitioner).where(Practitioner.user_id == user.id))


def require_profile(user: User) -> Practitioner:
    practitioner = profile_of(user)
    if practitioner is None:
        raise RuleError(404, "You have no profile yet: save it first.")
    return practitioner


def save_profile(user: User, data: Data) -> Practitioner:
    """Create or replace the user's profile from validated data (ProfileInSchema)."""
    practitioner = profile_of(user) or Practitioner(user_id=user.id)
    for field in SCALAR_FIELDS:
        setattr(practitioner, field, data[field])
    practitioner.techniques = catalog.by_slugs(Technique, data["techniques"])
    practitioner.conditions = catalog.by_slugs(Condition, data["conditions"])
    practitioner.client_groups = catalog.by_slugs(ClientGroup, data["client_groups"])
    # Any save is a fresh confirmation of availability (the API contract).
    practitioner.accepting_clients = data["accepting_clients"]
    practitioner.accepting_confirmed_at = now_utc() if data["accepting_clients"] else None
    db.session.add(practitioner)
    db.session.commit()
    return practitioner


def confirm_accepting(user: User) -> Practitioner:
    practitioner = require_profile(user)
    practitioner.accepting_clients = True
    practitioner.accepting_confirmed_at = now_utc()
    db.session.commit()
    return practitioner


def accepting_lapses_at(practitioner: Practitioner) -> datetime | None:
    return accepting_lapse(practitioner.accepting_clients, practitioner.accepting_confirmed_at)


def accepting_lapse(accepting: bool, confirmed_at: datetime | None) -> datetime | None:
    """When "accepting clients" stops being shown, from the two columns (search reads them as rows)."""
    if not accepting or confirmed_at is None:
        return None
    return confirmed_at + timedelta(days=current_app.config["ACCEPTING_LAPSE_DAYS"])


def is_accepting(practitioner: Practitioner, now: datetime | None = None) -> bool:
    """Availability lapses unless confirmed again: a stale "accepting" misleads clients."""
    lapses = accepting_lapses_at(practitioner)
    return lapses is not None and (now or now_utc()) < lapses


def lowest_price_sql() -> sa.ColumnElement[int]:
    """The price a visitor's "at most" is compared with: the range's start, or its end when only that
    is given (the index reads it through this too, search/facts.py)."""
    return sa.func.coalesce(Practitioner.price_min, Practitioner.price_max)


def years_experience(practitioner: Practitioner) -> int | None:
    if practitioner.practicing_since is None:
        return None
    return max(0, today_utc().year - practitioner.practicing_since)


def _place_query(data: Data) -> tuple[str, str]:
    """The text to geocode and the field to blame when it finds nothing."""
    if data["postal_code"]:
        return data["postal_code"], "postal_code"
    parts = [data["address"], data["city"], data["region"]]
    text = ", ".join(p for p in parts if p)
    if data["country"] != "US" and text:
        text = f"{text}, {data['country']}"
    return text, ("address" if data["address"] else "city")


def add_location(user: User, data: Data) -> PracticeLocation:
    """Add a place from validated data (LocationInSchema): coordinates as given, or geocoded."""
    practitioner = require_profile(user)
    if len(practitioner.locations) >= MAX_LOCATIONS:
        raise RuleError(409, f"A profile may list at most {MAX_LOCATIONS} places.")
    fields = {k: data[k] for k in ("label", "address", "city", "region", "postal_code", "country")}
    if data["lat"] is not None:
        fields.update(lat=data["lat"], lon=data["lon"], geocoded_from="coordinates")
    else:
        fields.update(_geocode(data))
    place = PracticeLocation(**fields)
    practitioner.locations.append(place)
    db.session.commit()
    return place


def _geocode(data: Data) -> Data:
    query, field = _place_query(data)
    if not query:
        raise RuleError(
            422,
            "Give an address, a city, a postal code, or lat and lon.",
            errors={"address": ["Give an address, a city, a postal code, or lat and lon."]},
        )
    try:
        found = get_geocoder().geocode(query)
    except GeocodingUnavailable as exc:
        raise RuleError(503, "Looking up places is unavailable just now; give lat and lon instead.") from exc
    if found is None:
        raise RuleError(422, f"We could not find “{query}” on the map.", field=field)
    parts = found.raw or {}
    result = {
        "lat": found.latitude,
        "lon": found.longitude,
        "geocoded_from": parts.get("source", "gazetteer"),
    }
    # Fill what the practitioner left blank from what the map knows.
    for key in ("city", "region", "postal_code"):
        if not data[key] and parts.get(key):
            result[key] = parts[key]
    return result


def delete_location(user: User, location_id: int) -> None:
    practitioner = require_profile(user)
    place = db.session.get(PracticeLocation, location_id)
    if place is None or place.practitioner_id != practitioner.id:
        raise RuleError(404, "No such place on your profile.", denied=place is not None)
    practitioner.locations.remove(place)
    db.session.commit()


def get_public(practitioner_id: int) -> Practitioner:
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise RuleError(404, "No practitioner with that id.")
    return practitioner


# The vocabularies a profile lists, each by name as the model's relationships order them.
_TERMS = (
    ("techniques", Technique, practitioner_techniques.c.technique_id, practitioner_techniques),
    ("conditions", Condition, practitioner_conditions.c.condition_id, practitioner_conditions),
    ("client_groups", ClientGroup, practitioner_client_groups.c.client_group_id, practitioner_client_groups),
)
# One statement for the three, built once: a profile is a fifth of the site's reads.
_LISTED = sa.union_all(
    *(
        sa.select(sa.literal(kind).label("kind"), model.slug, model.name)
        .join(link, column == model.id)
        .where(link.c.practitioner_id == sa.bindparam("pid"))
        for kind, model, column, link in _TERMS
    )
).subquery()
_LISTED_TERMS = sa.select(_LISTED).order_by(_LISTED.c.kind, _LISTED.c.name)


def listed_terms(practitioner_id: int) -> dict[str, list[tuple[str, str]]]:
    """(slug, name) of the practitioner's techniques, conditions and client groups, in one statement
    (the relationships' lazy loads are one each)."""
    found: dict[str, list[tuple[str, str]]] = {kind: [] for kind, *_ in _TERMS}
    for kind, slug, name in db.session.execute(_LISTED_TERMS, {"pid": practitioner_id}):
        found[kind].append((slug, name))
    return found
