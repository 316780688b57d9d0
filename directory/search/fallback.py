"""Answers from the database alone, for the minutes while a missing or damaged index is rebuilt.

Slower (a scan) and plainer (words must appear as typed, no stemming or spelling help), but
the same filters, radius and orders, so the service keeps answering. Responses say `degraded`.
"""

from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from flask import current_app

from directory.accounts.models import User
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.extensions import db
from directory.geo.distance import haversine_km
from directory.practitioners import service as practitioners
from directory.practitioners.models import (
    PracticeLocation,
    Practitioner,
    practitioner_client_groups,
    practitioner_conditions,
    practitioner_techniques,
)
from directory.search.engine import Concept, Hit, Outcome, Query

SCAN_LIMIT = 5000


def _concept_clause(concept: Concept) -> sa.ColumnElement[bool]:
    p = Practitioner
    like = [
        sa.or_(p.display_name.ilike(f"%{w}%"), p.headline.ilike(f"%{w}%"), p.approach.ilike(f"%{w}%"))
        for w in concept.label.split()
    ]
    clauses = [sa.and_(*like)]
    for model, link, column in (
        (Technique, practitioner_techniques, "technique_id"),
        (Condition, practitioner_conditions, "condition_id"),
    ):
        clauses.append(
            p.id.in_(
                sa.select(link.c.practitioner_id)
                .join(model, model.id == link.c[column])
                .where(model.slug.in_(concept.slugs or ("",)))
            )
        )
    return sa.or_(*clauses)


def run(query: Query, concepts: list[Concept], now: datetime) -> Outcome:
    p = Practitioner
    statement = (
        sa.select(p.id, p.practicing_since, p.accepting_clients, p.accepting_confirmed_at)
        .join(User, User.id == p.user_id)
        .where(User.email_confirmed_at.is_not(None))  # listed once the owner's email is confirmed
    )
    for concept in concepts:
        statement = statement.where(_concept_clause(concept))
    if query.min_years is not None:
        statement = statement.where(p.practicing_since <= now.year - query.min_years)
    if query.max_price is not None:
        lowest = practitioners.lowest_price_sql()
        statement = statement.where(lowest.is_not(None), lowest <= query.max_price)
    if query.home_visits:
        statement = statement.where(p.mobile.is_(True))
    for slugs, model, link, column in (
        (query.techniques, Technique, practitioner_techniques, "technique_id"),
        (query.conditions, Condition, practitioner_conditions, "condition_id"),
        (query.client_groups, ClientGroup, practitioner_client_groups, "client_group_id"),
    ):
        for slug in slugs:
            statement = statement.where(
                p.id.in_(
                    sa.select(link.c.practitioner_id)
                    .join(model, model.id == link.c[column])
                    .where(model.slug == slug)
                )
            )
    rows = db.session.execute(statement.order_by(p.id).limit(SCAN_LIMIT)).all()
    if query.verified or query.min_rating is not None or query.min_verified_years is not None:
        rows = []  # credentials and ratings are not scanned here; better nothing than a wrong badge
    if query.accepting:
        lapse = timedelta(days=current_app.config["ACCEPTING_LAPSE_DAYS"])
        rows = [
            r
            for r in rows
            if r.accepting_clients and r.accepting_confirmed_at and now - r.accepting_confirmed_at < lapse
        ]
    distances: dict[int, float] = {}
    point = query.point
    if point is not None:
        ids = [r.id for r in rows]
        places = (
            db.session.execute(
                sa.select(PracticeLocation.practitioner_id, PracticeLocation.lat, PracticeLocation.lon).where(
                    PracticeLocation.practitioner_id.in_(ids)
                )
            ).all()
            if ids
            else []
        )
        if places:
            d = haversine_km(
                point[0], point[1], np.array([x.lat for x in places]), np.array([x.lon for x in places])
            )
            for place, km in zip(places, d, strict=True):
                if km <= query.radius_km and km < distances.get(place.practitioner_id, np.inf):
                    distances[place.practitioner_id] = float(km)
        rows = [r for r in rows if r.id in distances]
    if query.language:
        langs: dict[int, list[str] | None] = {
            pid: languages
            for pid, languages in db.session.execute(
                sa.select(p.id, p.languages).where(p.id.in_([r.id for r in rows]))
            )
        }
        rows = [r for r in rows if query.language in (langs.get(r.id) or [])]
    ordered = sorted(rows, key=lambda r: (distances.get(r.id, 0.0), r.id) if point is not None else (0, r.id))
    start = (query.page - 1) * query.per_page
    hits = [
        Hit(doc=-1, pid=r.id, distance_km=distances.get(r.id), matched=list(concepts), relevance=0.0)
        for r in ordered[start : start + query.per_page]
    ]
    sort = "distance" if point is not None else "id"
    # No counts from a scan: the facets come back with the index.
    names = ("technique", "condition", "client_group", "language", "verified", "accepting", "home_visits")
    facets: dict[str, dict[str, int]] = {name: {} for name in names}
    return Outcome(len(ordered), hits, False, sort, concepts, facets, degraded=True)
