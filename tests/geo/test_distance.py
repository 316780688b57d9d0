import pytest
from geopy.distance import geodesic, great_circle

from directory.geo.distance import distances_km, haversine_km

PAIRS = [
    ((30.2672, -97.7431), (30.2672, -97.7431)),  # same point
    ((30.2672, -97.7431), (29.7604, -95.3698)),  # Austin - Houston
    ((40.7128, -74.0060), (51.5074, -0.1278)),  # New York - London
    ((45.5152, -122.6784), (43.6591, -70.2568)),  # Portland OR - Portland ME
    ((-33.8688, 151.2093), (33.9416, -118.4085)),  # Sydney - Los Angeles, across the date line
    ((89.9, 0.0), (-89.9, 0.0)),  # pole to pole
    ((0.0, 0.0), (0.5, 179.5)),  # nearly antipodal
    ((0.0, 0.0), (0.0, 180.0)),  # antipodal
    ((10.0, 179.9), (10.0, -179.9)),  # a short hop over the date line
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_haversine_matches_great_circle(a, b):
    expected = great_circle(a, b).km
    assert haversine_km(*a, *b) == pytest.approx(expected, rel=1e-3, abs=1e-9)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_haversine_is_symmetric(a, b):
    assert haversine_km(*a, *b) == pytest.approx(haversine_km(*b, *a), abs=1e-9)


@pytest.mark.parametrize(("a", "b"), [p for p in PAIRS if p[0] != p[1] and abs(p[0][0]) < 89])
def test_haversine_is_close_to_geodesic(a, b):
    # The sphere is within 0.36% of the ellipsoid, so good enough for ranking.
    assert haversine_km(*a, *b) == pytest.approx(geodesic(a, b).km, rel=0.0036)


def test_many_points_agree_with_one_at_a_time():
    origin = PAIRS[1][0]
    points = [b for _, b in PAIRS]
    assert list(distances_km(*origin, points)) == pytest.approx([haversine_km(*origin, *p) for p in points])


def test_known_distance():
    # Austin to Houston is about 235 km as the crow flies.
    assert haversine_km(30.2672, -97.7431, 29.7604, -95.3698) == pytest.approx(235, abs=3)
