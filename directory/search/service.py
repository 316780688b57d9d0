"""Search: place → point, query → outcome from the index, page → practitioners from the database.

Badges, ratings and `verified` shown to people come from the database (present.py), never from
the index, so a lagging index can never show a revoked credential as verified.
"""

import logging
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple, TypedDict, cast

from flask import current_app

from directory.catalog import service as catalog
from directory.catalog.models import ClientGroup, Condition, Technique
from directory.geo.geocoder import GeocodingUnavailable, get_geocoder, parse_latlon
from directory.rules import RuleError
from directory.search import engine, fallback, present, walks
from directory.search.arrays import IndexView
from directory.search.index import IndexUnavailable
from directory.search.node import SearchNode, node
from directory.search.schemas import SearchArgs
from directory.timeutil import now_utc

LOG = logging.getLogger(__name__)


class Location(TypedDict):
    lat: float
    lon: float
    label: str  # as given, or the place the geocoder found


class SearchResponse(TypedDict):
    """GET /api/v1/search's answer (SearchResponseSchema), and the search page's."""

    degraded: bool
    total: int
    page: int
    per_page: int
    location: Location | None
    relaxed: bool
    sort: str
    suggestion: str | None
    showing_results_for: str | None
    facets: dict[str, dict[str, int]]
    results: list[present.Result]
    next_cursor: str | None  # a walk's next page (walks.py); None at its end, or outside a walk


def locate(args: SearchArgs) -> Location | None:
    """The searched point: `lat`/`lon`, or `near` as "lat,lon", a ZIP, a city or an address."""
    lat, lon = args.get("lat"), args.get("lon")
    if lat is not None and lon is not None:
        return {"lat": lat, "lon": lon, "label": f"{lat:.4f}, {lon:.4f}"}
    near = (args.get("near") or "").strip()
    if not near:
        return None
    try:
        point = parse_latlon(near)
    except ValueError as exc:
        raise RuleError(422, str(exc), field="near") from exc
    if point:
        return {"lat": point[0], "lon": point[1], "label": near}
    try:
        found = get_geocoder().geocode(near)
    except GeocodingUnavailable as exc:
        raise RuleError(503, "Looking up places is unavailable just now; try a ZIP code.") from exc
    if found is None:
        raise RuleError(422, f"We could not find “{near}” on the map.", field="near")
    return {"lat": found.latitude, "lon": found.longitude, "label": found.address}


def _query(args: SearchArgs, location: Location | None) -> engine.Query:
    query = engine.Query(
        q=args.get("q"),
        lat=location["lat"] if location else None,
        lon=location["lon"] if location else None,
        radius_km=args.get("radius_km") or 25.0,
        techniques=list(args.get("technique") or []),
        conditions=list(args.get("condition") or []),
        client_groups=list(args.get("client_group") or []),
        language=args.get("language"),
        verified=bool(args.get("verified")),
        min_years=args.get("min_years"),
        min_rating=args.get("min_rating"),
        accepting=bool(args.get("accepting")),
        max_price=args.get("max_price"),
        home_visits=bool(args.get("home_visits")),
        min_verified_years=args.get("min_verified_years"),
        sort=args.get("sort"),
        page=args.get("page") or 1,
        per_page=args.get("per_page") or 20,
    )
    if query.sort == "distance" and not query.located:
        raise RuleError(422, "Sorting by distance needs a place: give near, or lat and lon.", field="sort")
    return query


class Found(NamedTuple):
    location: Location | None
    query: engine.Query
    node: SearchNode
    view: IndexView | None  # None: answered by the database scan
    outcome: engine.Outcome
    pin: str | None  # a walk's pin (walks.py)


def find(args: SearchArgs, now: datetime, walk: bool = False) -> Found:
    """The ranked page of ids and everything about how they were found, without loading cards; with
    `walk`, on a pinned generation."""
    location, query, search_node, view, pin = _prepare(args, now, walk)
    return Found(location, query, search_node, view, _outcome(query, search_node, view, now), pin)


def _prepare(
    args: SearchArgs, now: datetime, walk: bool
) -> tuple[Location | None, engine.Query, SearchNode, IndexView | None, str | None]:
    """The place, the query, and the generation to run it on (pinned for a walk)."""
    location = locate(args)
    query = _query(args, location)
    search_node = node()
    view = search_node.ready_view(current_app.config["SEARCH_REBUILD_WAIT_SECONDS"])
    if not walk:
        return location, query, search_node, view, None
    rebuilding = RuleError(
        503,
        "Walking through results needs the search index, which is being rebuilt; try again in a minute.",
        retry_after=60,
    )
    if view is None:
        raise rebuilding
    config = current_app.config
    try:
        pin, view = search_node.pins.start(
            search_node.generation,
            now,
            config["SEARCH_CURSOR_SECONDS"],
            config["SEARCH_CURSOR_REUSE_SECONDS"],
        )
    except IndexUnavailable as exc:  # damaged or swapped away since ready_view: the next search rebuilds
        raise rebuilding from exc
    return location, query, search_node, view, pin


def _outcome(
    query: engine.Query, search_node: SearchNode, view: IndexView | None, now: datetime
) -> engine.Outcome:
    concepts = engine.plan(query.q, search_node.analyzer)
    if view is None:
        return fallback.run(query, concepts, now)
    facet_slugs = {
        "technique": _slugs(Technique),
        "condition": _slugs(Condition),
        "client_group": _slugs(ClientGroup),
    }
    try:
        return engine.run(view, query, concepts, now, facet_slugs)
    except Exception as exc:  # noqa: BLE001 - a segment damaged after its check fails in many ways
        # The damage check runs before a search, the reads of postings during it: damage done in
        # between is answered from the database, and the next search's check starts the rebuild.
        LOG.warning("search index unreadable during a search (%s); answered from the database", exc)
        return fallback.run(query, concepts, now)


def search(args: SearchArgs, walk: bool = False) -> SearchResponse:
    """Run a search from already-validated arguments (SearchArgsSchema); returns the API response.
    With `walk`, the first page of a walk (walks.py): `next_cursor` leads to the next.

    When q as typed finds nothing, or only partial matches, and its spelling correction finds full
    matches, the results are the correction's (`showing_results_for`), unless `as_typed` asks for
    the typed words: a misspelt word must not leave the visitor with results for the other words."""
    now = now_utc()
    location, query, search_node, view, pin = _prepare(args, now, walk)
    suggestion = None
    showing_for = None
    outcome = None
    if view is not None:
        suggestion = _suggestion(search_node, view, query.q)
    if suggestion and not args.get("as_typed"):
        # A word no document holds means q as typed finds nothing or only partial matches, so the
        # correction is tried first, and q as typed only when the correction finds no full match.
        corrected = replace(query, q=suggestion)
        again = _outcome(corrected, search_node, view, now)
        if again.total and not again.relaxed:
            query, outcome, showing_for = corrected, again, suggestion
    if outcome is None:
        outcome = _outcome(query, search_node, view, now)
    cursor = None
    if pin is not None and outcome.next_key is not None:
        cursor = walks.Cursor(
            pin=pin,
            query=walks.carried(query),
            location=dict(location) if location else None,
            now=now,
            after=outcome.next_key,
            page=query.page + 1,
            per_page=query.per_page,
            suggestion=suggestion,
            showing_results_for=showing_for,
        )
    return _response(query, location, view, outcome, suggestion, showing_for, cursor)


def _suggestion(search_node: SearchNode, view: IndexView, q: str | None) -> str | None:
    wait = current_app.config["SEARCH_SPELLING_WAIT_SECONDS"]
    try:
        unknown = engine.unknown(view, engine.plan(q, search_node.analyzer))
        return present.suggestion(view, q, unknown, wait)
    except Exception as exc:  # noqa: BLE001 - damaged mid-read, as in _outcome: no suggestion this time
        LOG.warning("search index unreadable while spelling (%s)", exc)
        return None


def resume(token: str, per_page: int | None) -> SearchResponse:
    """The next page of a walk: its cursor's search, on its pinned generation, at its clock."""
    cursor = walks.decode(token)
    search_node = node()
    view = walks.pinned_view(search_node.pins, cursor, now_utc())
    query = cursor.engine_query(per_page)
    outcome = _outcome(query, search_node, view, cursor.now)
    if outcome.degraded:  # its generation cannot be read: the walk cannot go on
        raise RuleError(
            410, "This walk's results can no longer be read. Start the search again.", field="cursor"
        )
    following = None
    if outcome.next_key is not None:
        following = replace(cursor, after=outcome.next_key, page=cursor.page + 1, per_page=query.per_page)
    location = cast(Location, cursor.location) if cursor.location else None
    return _response(query, location, view, outcome, cursor.suggestion, cursor.showing_results_for, following)


def _response(
    query: engine.Query,
    location: Location | None,
    view: IndexView | None,  # None: answered by the database scan (degraded)
    outcome: engine.Outcome,
    suggestion: str | None,
    showing_for: str | None,
    cursor: walks.Cursor | None,
) -> SearchResponse:
    return {
        "degraded": outcome.degraded,
        "total": outcome.total,
        "page": query.page,
        "per_page": query.per_page,
        "location": location,
        "relaxed": outcome.relaxed,
        "sort": outcome.sort,
        "suggestion": suggestion,
        "showing_results_for": showing_for,
        "facets": outcome.facets,
        "results": present.cards(
            outcome, query, location["label"] if location else None, None if outcome.degraded else view
        ),
        "next_cursor": walks.encode(cursor) if cursor is not None else None,
    }


def _slugs(model: type[Technique] | type[Condition] | type[ClientGroup]) -> list[str]:
    return [slug for slug, _ in catalog.terms(model)]
