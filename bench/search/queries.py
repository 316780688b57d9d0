"""The fixed query mix: four kinds, the same count of each, drawn from random.Random(seed).

Text is what clients type (the catalog's plain words, technique and condition names, practitioner
surnames, a few misspellings); places are real ZIP points picked the way the demo generator picks
them (by city population), so every located query lands where the demo puts practitioners. Queries
carry lat/lon numbers, so geocoding is never part of what is timed; the label is for people.
"""

import random
from dataclasses import dataclass, replace
from datetime import date

from directory.demo.names import NAME_POOLS
from directory.demo.places import load_places

KINDS = ("text", "location", "text+location+filters", "text+location+filters by distance")
SEED = 42
MIN_YEARS = (3, 5, 10)

PHRASES = (
    "knots in my shoulders",
    "headaches from my desk job",
    "sciatica",
    "lower back pain runner",
    "stiff neck",
    "trigger point therapy",
    "myofascial release after surgery",
    "anxiety stress",
    "neuromuscular therapy",
    "NMT",
    "deep tissue massage",
    "sports massage",
    "PNF stretching",
    "positional release",
    "swedish massage",
    "friction techniques scar tissue",
    "fibromyalgia",
    "arthritis",
    "chronic pain",
    "back pain",
    "neck and shoulder pain",
    "tension headache",
    "migraine",
    "pinched nerve",
    "carpal tunnel",
    "posture",
    "range of motion",
    "muscle spasms",
    "soft tissue injury",
    "repetitive strain injuries",
    "rehab after surgery",
    "burnout",
    "runner tight hamstrings",
    "office worker neck pain",
    "referred pain",
)
MISSPELLED = (
    "sciatca",
    "miofascial release",
    "shoulder pian",
    "trigger piont therapy",
    "fibromyalga",
    "headachs from my desk job",
    "deep tisue massage",
    "lower bakc pain",
)


@dataclass(frozen=True)
class Query:
    kind: str
    q: str | None = None
    label: str | None = None  # the place, for people; lat/lon are what is searched
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 25.0
    verified: bool | None = None
    min_years: int | None = None
    sort: str | None = None


def build_queries(total: int = 200, seed: int = SEED) -> list[Query]:
    """`total` queries, a quarter of each kind (kinds 3 and 4 share their text and places)."""
    rng = random.Random(seed)
    per_kind = max(1, total // len(KINDS))
    places = load_places()
    surnames = sorted({last for pool in NAME_POOLS for last in pool.last})
    firsts = sorted({first for pool in NAME_POOLS for first in pool.first})

    def place() -> tuple[str, float, float]:
        city = places.pick_city(rng)
        z = places.pick_zip(rng, city)
        return f"{z.city.title()}, {z.state} {z.code}", z.lat, z.lon

    def text(names: bool) -> str:
        roll = rng.random()
        if names and roll < 0.1:
            return f"{rng.choice(firsts)} {rng.choice(surnames)}"
        if names and roll < 0.2:
            return rng.choice(surnames)
        if roll > 0.85:
            return rng.choice(MISSPELLED)
        return rng.choice(PHRASES)

    text_only = [Query(KINDS[0], q=text(names=True), sort="relevance") for _ in range(per_kind)]
    located = []
    for _ in range(per_kind):
        label, lat, lon = place()
        located.append(Query(KINDS[1], label=label, lat=lat, lon=lon, radius_km=25.0, sort="distance"))
    filtered = []
    for _ in range(per_kind):
        label, lat, lon = place()
        filtered.append(
            Query(
                KINDS[2],
                q=text(names=False),
                label=label,
                lat=lat,
                lon=lon,
                radius_km=40.0,
                verified=True,
                min_years=rng.choice(MIN_YEARS),
                sort="relevance",
            )
        )
    by_distance = [replace(query, kind=KINDS[3], sort="distance") for query in filtered]
    return text_only + located + filtered + by_distance


def without_verified(queries: list[Query]) -> list[Query]:
    """The mix with `verified` dropped: for data that has no verified credential at all, where the
    filter would turn kinds 3 and 4 into empty answers that time nothing."""
    return [replace(query, verified=None) for query in queries]


def engine_args(query: Query) -> dict:
    """The arguments of directory.search.service.search, as the API parses them."""
    return {
        "q": query.q,
        "lat": query.lat,
        "lon": query.lon,
        "near": None,
        "radius_km": query.radius_km,
        "technique": [],
        "condition": [],
        "language": None,
        "verified": query.verified,
        "min_years": query.min_years,
        "min_rating": None,
        "accepting": None,
        "sort": query.sort,
        "page": 1,
        "per_page": 20,
    }


def http_params(query: Query) -> dict[str, str]:
    """The same query as GET /api/v1/search parameters."""
    params = {"sort": query.sort or "", "per_page": "20"}
    if query.q:
        params["q"] = query.q
    if query.lat is not None and query.lon is not None:
        params.update(lat=f"{query.lat:.6f}", lon=f"{query.lon:.6f}", radius_km=f"{query.radius_km:g}")
    if query.verified:
        params["verified"] = "true"
    if query.min_years:
        params["min_years"] = str(query.min_years)
    return params


def min_since_year(query: Query, today: date | None = None) -> int | None:
    """The latest `practicing_since` that still gives `min_years` years of practice."""
    if not query.min_years:
        return None
    return (today or date.today()).year - query.min_years
