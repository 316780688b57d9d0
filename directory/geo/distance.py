"""Great-circle distances in plain Python.

Haversine on a sphere of the mean Earth radius is within 0.36% of geopy's ellipsoidal geodesic and
about 150x faster, which matters in search loops; geopy stays the tool for geocoding.
"""

from collections.abc import Iterable, Iterator
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two points given in degrees."""
    phi1, phi2 = radians(lat1), radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = radians(lon2 - lon1) / 2
    h = sin(half_dphi) ** 2 + cos(phi1) * cos(phi2) * sin(half_dlambda) ** 2
    # min() guards asin against rounding just past 1 for near-antipodal points.
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def distances_km(lat: float, lon: float, points: Iterable[tuple[float, float]]) -> Iterator[float]:
    """Distances from one origin to many points; the origin's trigonometry is done once."""
    phi1 = radians(lat)
    cos_phi1 = cos(phi1)
    diameter = 2 * EARTH_RADIUS_KM
    for lat2, lon2 in points:
        phi2 = radians(lat2)
        h = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos(phi2) * sin(radians(lon2 - lon) / 2) ** 2
        yield diameter * asin(min(1.0, sqrt(h)))
