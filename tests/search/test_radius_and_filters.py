"""Who is inside the radius and who passes each filter, at the edges, against values worked out by hand."""

import math
from datetime import timedelta

import numpy as np
import pytest

from directory.search import engine
from tests.search.ram_index import NOW, facts, order, run, view_of

KM_PER_DEGREE = math.pi / 180 * 6371.0088
TODAY = NOW.date()


def law_of_cosines_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance by another formula than the engine's (haversine), on the same radius."""
    (p1, l1), (p2, l2) = [(math.radians(lat), math.radians(lon)) for lat, lon in (a, b)]
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1)
    return 6371.0088 * math.acos(min(1.0, cos_angle))


@pytest.mark.parametrize(
    ("place", "point", "radius_km", "km"),
    [
        ((40.0, -75.0), (40.0, -75.0), 25.0, 0.0),
        ((40.2, -75.0), (40.0, -75.0), 25.0, 0.2 * KM_PER_DEGREE),  # along a meridian
        ((44.49, 10.0), (40.0, 10.0), 500.0, 4.49 * KM_PER_DEGREE),  # 499 km north, near a wide edge
        ((0.0, 179.9), (0.0, -179.9), 25.0, 0.2 * KM_PER_DEGREE),  # across the date line
        ((89.9, 90.0), (89.9, -90.0), 25.0, 0.2 * KM_PER_DEGREE),  # over the pole
        ((0.0, 0.2), (0.0, 0.0), 25.0, 0.2 * KM_PER_DEGREE),  # along the equator
        (
            (0.0, 0.2245),
            (0.0, 0.0),
            25.0,
            0.2245 * KM_PER_DEGREE,
        ),  # 24.96 km east: the longitude window's edge
        # Far north a circle bulges towards the pole: 26.5° east at 81° N is still within 500 km of 80° N.
        ((81.0, 26.5), (80.0, 0.0), 500.0, law_of_cosines_km((81.0, 26.5), (80.0, 0.0))),
    ],
)
def test_a_place_inside_the_radius_is_found_at_its_great_circle_distance(place, point, radius_km, km):
    view = view_of(facts(1, places=[place]))
    outcome = run(view, lat=point[0], lon=point[1], radius_km=radius_km)
    assert [(h.pid, h.distance_km) for h in outcome.hits] == [(1, pytest.approx(km, abs=1e-6))]


@pytest.mark.parametrize(
    ("place", "point", "radius_km"),
    [
        ((40.3, -75.0), (40.0, -75.0), 25.0),  # 33 km
        ((44.52, 10.0), (40.0, 10.0), 500.0),  # 502.6 km
        ((0.0, 179.7), (0.0, -179.9), 25.0),  # 44 km across the date line
    ],
)
def test_a_place_beyond_the_radius_is_not_found(place, point, radius_km):
    view = view_of(facts(1, places=[place]))
    assert run(view, lat=point[0], lon=point[1], radius_km=radius_km).total == 0


def test_the_radius_itself_is_inside():
    view = view_of(facts(1, places=[(40.2, -75.0)]))
    # The radius set to the distance the engine computes, to the last bit: on the circle is inside.
    (km,) = engine.haversine_km(40.0, -75.0, np.array([40.2]), np.array([-75.0]))
    assert km == pytest.approx(0.2 * KM_PER_DEGREE)
    assert run(view, lat=40.0, lon=-75.0, radius_km=float(km)).total == 1
    assert run(view, lat=40.0, lon=-75.0, radius_km=float(km) - 1e-6).total == 0


def test_a_profile_without_places_is_never_found_near_a_point():
    view = view_of(facts(1, "alpha"), facts(2, "alpha", places=[(40.0, -75.0)]))
    assert order(run(view, q="alpha", lat=40.0, lon=-75.0)) == [2]
    assert order(run(view, q="alpha")) == [1, 2]


STAMP = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("profile", "query", "found"),
    [
        ({"verified_until": TODAY}, {"verified": True}, True),
        ({"verified_until": TODAY - timedelta(days=1)}, {"verified": True}, False),
        ({"verified_until": None}, {"verified": True}, False),
        ({"verified_until": None}, {"verified": False}, True),
        ({"accepting_until": NOW + timedelta(seconds=1)}, {"accepting": True}, True),
        ({"accepting_until": NOW}, {"accepting": True}, False),  # lapses at that instant
        ({"accepting_until": None}, {"accepting": True}, False),
        ({"practicing_since": NOW.year - 5}, {"min_years": 5}, True),
        ({"practicing_since": NOW.year - 4}, {"min_years": 5}, False),
        ({"practicing_since": None}, {"min_years": 0}, False),  # unknown is not "at least 0 years"
        ({"rating_average": 4.0, "review_count": 3}, {"min_rating": 4.0}, True),
        ({"rating_average": 3.9, "review_count": 3}, {"min_rating": 4.0}, False),
        ({"rating_average": 4.5, "review_count": 0}, {"min_rating": 1.0}, False),  # no reviews, no rating
        (
            {"slugs": ["deep-tissue", "back-pain"]},
            {"techniques": ["deep-tissue"], "conditions": ["back-pain"]},
            True,
        ),
        ({"slugs": ["deep-tissue"]}, {"techniques": ["deep-tissue"], "conditions": ["back-pain"]}, False),
        ({"slugs": ["athletes", "deep-tissue"]}, {"client_groups": ["athletes"]}, True),
        ({"slugs": ["athletes"]}, {"client_groups": ["athletes", "office-workers"]}, False),  # every group
        ({"slugs": ["deep-tissue"]}, {"client_groups": ["athletes"]}, False),
        ({"price_from": 80}, {"max_price": 80}, True),
        ({"price_from": 81}, {"max_price": 80}, False),
        ({"price_from": None}, {"max_price": 100_000}, False),  # no price given is not "cheap enough"
        ({"home_visits": True}, {"home_visits": True}, True),
        ({"home_visits": False}, {"home_visits": True}, False),
        ({"home_visits": False}, {"home_visits": False}, True),
        ({"verified_since": NOW.year - 5, "verified_until": TODAY}, {"min_verified_years": 5}, True),
        ({"verified_since": NOW.year - 4, "verified_until": TODAY}, {"min_verified_years": 5}, False),
        (
            {"verified_since": NOW.year - 9, "verified_until": TODAY - timedelta(days=1)},
            {"min_verified_years": 5},
            False,
        ),
        ({"verified_since": None, "verified_until": TODAY}, {"min_verified_years": 0}, False),
        ({"languages": ["es"]}, {"language": "es"}, True),
        ({"languages": ["en"]}, {"language": "es"}, False),
    ],
)
def test_each_filter_at_its_edge(profile, query, found):
    view = view_of(facts(1, "alpha", **profile), facts(2, "beta"))
    assert (1 in order(run(view, **query))) is found
