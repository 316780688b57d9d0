"""The one great-circle formula, against distances worked out by hand on the sphere of radius R:
along the equator or a meridian a degree is 2πR/360 and a quarter turn πR/2; pole to pole is πR."""

import math

import numpy as np
import pytest

from directory.geo.distance import haversine_km

R = 6371.0088  # the IUGG mean radius, written out so a change of the radius shows here
BY_HAND = [
    ((0.0, 0.0), (0.0, 1.0), 2 * math.pi * R / 360),  # one degree of the equator: 111.195 km
    ((0.0, 0.0), (1.0, 0.0), 2 * math.pi * R / 360),  # one degree of a meridian
    ((0.0, 0.0), (0.0, 90.0), math.pi * R / 2),
    ((0.0, 0.0), (0.0, 180.0), math.pi * R),  # antipodal: the cap on h keeps arcsin defined
    ((90.0, 0.0), (-90.0, 0.0), math.pi * R),
    ((60.0, 0.0), (60.0, 180.0), math.pi * R / 3),  # over the pole: 30° + 30° of a meridian
    (
        (10.0, 179.5),
        (10.0, -179.5),
        2 * R * math.asin(math.cos(math.radians(10)) * math.sin(math.radians(0.5))),
    ),
]


@pytest.mark.parametrize(("a", "b", "km"), BY_HAND)
def test_a_pair_of_points_gives_the_distance_worked_out_by_hand(a, b, km):
    found = haversine_km(*a, *b)
    assert type(found) is float
    assert found == pytest.approx(km, rel=1e-12)


def test_one_origin_against_arrays_gives_each_pairs_distance():
    lats = np.array([b[0] for _, b, _ in BY_HAND])
    lons = np.array([b[1] for _, b, _ in BY_HAND])
    origin = (0.0, 0.0)
    found = haversine_km(*origin, lats, lons)
    assert isinstance(found, np.ndarray) and found.shape == lats.shape
    one_at_a_time = [haversine_km(*origin, float(la), float(lo)) for la, lo in zip(lats, lons, strict=True)]
    assert found.tolist() == pytest.approx(one_at_a_time, rel=1e-12)


def test_arrays_on_both_sides_pair_element_by_element():
    a_lat, a_lon = np.array([a[0] for a, _, _ in BY_HAND]), np.array([a[1] for a, _, _ in BY_HAND])
    b_lat, b_lon = np.array([b[0] for _, b, _ in BY_HAND]), np.array([b[1] for _, b, _ in BY_HAND])
    found = haversine_km(a_lat, a_lon, b_lat, b_lon)
    assert found == pytest.approx([km for _, _, km in BY_HAND], rel=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        ("30", -97.0, 29.0, -95.0),  # text is not a coordinate
        (None, -97.0, 29.0, -95.0),
        ([30.0], -97.0, 29.0, -95.0),  # a list is neither a float nor an array
    ],
)
def test_anything_but_numbers_or_arrays_is_refused(bad):
    with pytest.raises(TypeError):
        haversine_km(*bad)
