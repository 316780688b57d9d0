"""Search against a brute-force oracle: random practitioners, random queries, every page walked.

The oracle recomputes in plain Python (geopy for distances) what the search API promises (README, Search): who is within the
radius, each `distance_km`, every filter, `total`, paging that returns each match exactly once, the
distance order, facets over the whole result set, and exact matches for made-up words.
"""

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest
from geopy.distance import great_circle

from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.timeutil import today_utc

SEED = 20_240_611
PEOPLE = 200
QUERIES = 60
CITIES = {
    "Austin": (30.2672, -97.7431),
    "Seattle": (47.6062, -122.3321),
    "Chicago": (41.8781, -87.6298),
    "Miami": (25.7617, -80.1918),
}
SPREADS_DEG = (0.02, 0.1, 0.4, 1.5)  # most places near a centre, some far out
# Slug lists read better as text.
TECHNIQUES = (  # noqa: SIM905
    "neuromuscular-therapy trigger-point-therapy myofascial-release positional-release pnf-stretching "
    "flexibility-stretching friction-techniques deep-tissue sports-massage swedish-massage"
).split()
CONDITIONS = (  # noqa: SIM905
    "chronic-pain back-pain neck-pain headaches muscle-spasms fibromyalgia arthritis repetitive-strain "
    "postural-imbalance nerve-compression soft-tissue-injury post-surgical limited-mobility stress"
).split()
LANGUAGES = ("en", "es", "fr", "vi", "zh")
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena")
LAST = ("Moreno", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tran", "Ueda", "Varga")
# Ordinary words, some of them the catalog's plain words (knots, stiff, posture, desk job, runner...).
WORDS = [
    "gentle",
    "firm",
    "slow",
    "steady",
    "pressure",
    "calm",
    "breathing",
    "recovery",
    "relief",
    "tension",
    "posture",
    "knots",
    "stiff",
    "office",
    "desk",
    "job",
    "runner",
    "headache",
    "lumbar",
    "shoulders",
    "clinic",
    "careful",
    "attentive",
    "hands",
    "warm",
    "strength",
]
# Made-up words that only the planted approaches contain: the text oracle is exact for them.
RARE = ("zephyrine", "vorticelle", "quandrix")
THIS_YEAR = today_utc().year


@dataclass
class Person:
    id: int
    places: list[tuple[float, float]]
    techniques: set[str]
    conditions: set[str]
    languages: set[str]
    since: int | None
    accepting: bool
    rare: set[str] = field(default_factory=set)


# -- the data -------------------------------------------------------------------------------------
def _place(rng: random.Random) -> tuple[float, float]:
    lat, lon = rng.choice(list(CITIES.values()))
    spread = rng.choice(SPREADS_DEG)
    return round(lat + rng.gauss(0, spread), 6), round(lon + rng.gauss(0, spread), 6)


def _plant(rng: random.Random) -> list[set[str]]:
    """Which made-up words each person's approach carries: the first two overlap a little, the
    third never meets the first (so "zephyrine quandrix" must relax)."""
    everyone = range(PEOPLE)
    zeph = set(rng.sample(everyone, 12))
    vort = set(rng.sample(sorted(set(everyone) - zeph), 9)) | set(sorted(zeph)[:3])
    quan = set(rng.sample(sorted(set(everyone) - zeph), 7))
    return [{w for w, group in zip(RARE, (zeph, vort, quan), strict=True) if i in group} for i in everyone]


def _profile(rng: random.Random, i: int, rare: set[str]) -> dict:
    words = rng.choices(WORDS, k=rng.randint(4, 14)) + sorted(rare)
    rng.shuffle(words)
    return {
        "display_name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
        "approach": " ".join(words).capitalize() + ".",
        "techniques": rng.sample(TECHNIQUES, rng.randint(0, 3)),
        "conditions": rng.sample(CONDITIONS, rng.randint(0, 3)),
        "languages": ["en", *rng.sample(LANGUAGES[1:], rng.randint(0, 2))],
        "practicing_since": rng.choice([None, rng.randint(1960, THIS_YEAR)]),
        "accepting_clients": rng.random() < 0.5,
    }


def _person(pid: int, profile: dict, places: list, rare: set[str]) -> Person:
    return Person(
        id=pid,
        places=places,
        techniques=set(profile["techniques"]),
        conditions=set(profile["conditions"]),
        languages=set(profile["languages"]),
        since=profile["practicing_since"],
        accepting=profile["accepting_clients"],
        rare=rare,
    )


def build_world(client, factory, seed: int = SEED) -> list[Person]:
    """PEOPLE practitioners made through the services, in phases with a search between them, so the
    index is built once and then follows the outbox: new documents in later segments, profiles saved
    again (an old document deleted, a new one added), places added, practitioners deleted."""
    rng = random.Random(seed)
    people, rows = {}, {}
    for i, rare in enumerate(_plant(rng)):
        if i in (PEOPLE // 2, 3 * PEOPLE // 4):
            client.get("/api/v1/search")  # builds the index, then catches up with what came since
        profile = _profile(rng, i, rare)
        rows[i] = factory.practitioner(**profile)
        places = [_place(rng) for _ in range(rng.choice((0, 1, 1, 1, 2, 3)))]
        for lat, lon in places:
            factory.location(rows[i], lat=lat, lon=lon, city="Somewhere")
        people[i] = _person(rows[i].id, profile, places, rare)
    client.get("/api/v1/search")
    for i in rng.sample(range(PEOPLE), PEOPLE // 10):  # saved again: a new document for the same id
        profile = _profile(rng, i, people[i].rare)
        factory.practitioner(rows[i].user, **profile)
        places = people[i].places + [_place(rng) for _ in range(rng.choice((0, 1)))]
        for lat, lon in places[len(people[i].places) :]:
            factory.location(rows[i], lat=lat, lon=lon, city="Elsewhere")
        people[i] = _person(rows[i].id, profile, places, people[i].rare)
    for i in rng.sample(range(PEOPLE), 5):
        db.session.delete(db.session.get(Practitioner, rows[i].id))
        db.session.commit()
        del people[i]
    return list(people.values())


@pytest.fixture
def world(client, factory):
    return build_world(client, factory)


# -- the oracle -----------------------------------------------------------------------------------
@dataclass
class Expected:
    distances: dict[int, float | None]  # id -> km to the nearest place (None without a location)
    unsure: set[int]  # ids too close to the radius to call either way


def oracle(people: list[Person], params: dict) -> Expected:
    centre = (params["lat"], params["lon"]) if "lat" in params else None
    radius = params.get("radius_km", 25.0)
    found, unsure = {}, set()
    for p in people:
        if params.get("accepting") == "true" and not p.accepting:
            continue
        if "language" in params and params["language"] not in p.languages:
            continue
        if "min_years" in params and (p.since is None or THIS_YEAR - p.since < params["min_years"]):
            continue
        if not set(params.get("technique", [])) <= p.techniques:
            continue
        if not set(params.get("condition", [])) <= p.conditions:
            continue
        if centre is None:
            found[p.id] = None
            continue
        if not p.places:
            continue
        d = min(great_circle(centre, place).km for place in p.places)
        if abs(d - radius) <= 1e-6 * radius:
            unsure.add(p.id)
        elif d <= radius:
            found[p.id] = d
    return Expected(found, unsure)


def random_query(rng: random.Random, places: list[tuple[float, float]]) -> dict:
    params: dict = {}
    if rng.random() < 0.85:
        # Mostly beside somebody's place, else near a city centre: few searches come back empty.
        lat, lon = rng.choice(places) if rng.random() < 0.6 else rng.choice(list(CITIES.values()))
        params["lat"] = round(lat + rng.gauss(0, 0.05), 5)
        params["lon"] = round(lon + rng.gauss(0, 0.05), 5)
        params["radius_km"] = round(math.exp(rng.uniform(math.log(5), math.log(500))), 3)
    if rng.random() < 0.2:
        params["technique"] = rng.sample(TECHNIQUES, rng.choice((1, 1, 2)))
    if rng.random() < 0.2:
        params["condition"] = rng.sample(CONDITIONS, 1)
    if rng.random() < 0.2:
        params["language"] = rng.choice(LANGUAGES)
    if rng.random() < 0.25:
        params["min_years"] = rng.randint(0, 40)
    if rng.random() < 0.25:
        params["accepting"] = "true"
    params["per_page"] = rng.randint(1, 25)
    return params


# -- talking to the API ---------------------------------------------------------------------------
def search(client, params: dict) -> dict:
    query = dict(params)
    if "lat" in query and query.pop("as_near", False):
        query["near"] = f"{query.pop('lat')},{query.pop('lon')}"
    query.pop("as_near", None)
    response = client.get("/api/v1/search", query_string=query)
    assert response.status_code == 200, (params, response.get_json())
    body = response.get_json()
    assert not body.get("degraded"), "answered from the database scan, not the index"
    return body


def walk(client, params: dict) -> tuple[list[dict], dict]:
    """Every page of a search, in order; and the first page's body."""
    results, first, page = [], None, 1
    while True:
        body = search(client, {**params, "page": page})
        first = first or body
        assert body["total"] == first["total"], f"total changed between pages: {params}"
        results.extend(body["results"])
        if len(body["results"]) < params["per_page"]:
            break
        page += 1
        assert page <= 500, "paging never ends"
    return results, first


def check(client, params: dict, expected: Expected, people: dict[int, Person]) -> list[str]:
    """What the API got wrong for these parameters, in words (empty when all is right)."""
    problems = []
    results, body = walk(client, params)
    ids = [r["id"] for r in results]
    where = f"{params} →"
    if len(ids) != len(set(ids)):
        problems.append(f"{where} repeated ids {[i for i, n in Counter(ids).items() if n > 1]}")
    got = set(ids) - expected.unsure
    want = set(expected.distances)
    if got != want:
        problems.append(f"{where} missing {sorted(want - got)}, unexpected {sorted(got - want)}")
    if not len(want) <= body["total"] <= len(want) + len(expected.unsure):
        problems.append(f"{where} total {body['total']}, oracle {len(want)}")
    if len(ids) != body["total"]:
        problems.append(f"{where} walked {len(ids)} results but total says {body['total']}")
    for r in results:
        d = expected.distances.get(r["id"])
        if d is None:
            if r["id"] in want and r["distance_km"] is not None:
                problems.append(f"{where} {r['id']} has distance {r['distance_km']} without a location")
            continue
        if r["distance_km"] is None or abs(r["distance_km"] - d) > max(0.001 * d, 0.006):
            problems.append(f"{where} {r['id']} distance {r['distance_km']}, great circle {d:.4f}")
        shown = great_circle((params["lat"], params["lon"]), (r["lat"], r["lon"])).km
        if abs(shown - d) > max(0.001 * d, 0.006):  # the card shows the nearest place
            problems.append(f"{where} {r['id']} shows a place {shown:.3f} km away, nearest {d:.3f}")
    sort = body["sort"]
    if sort != (params.get("sort") or ("distance" if "lat" in params else "rating")):
        problems.append(f"{where} sort {sort}")
    if sort == "distance":
        km = [r["distance_km"] for r in results]
        if km != sorted(km):
            problems.append(f"{where} not in distance order: {km}")
    # Nobody has reviews or badges yet, so by rating (or by relevance with neither words nor a place)
    # every result ties, and ids decide (the contract: ties are broken by id).
    ties = sort == "rating" or (sort == "relevance" and "lat" not in params and not params.get("q"))
    if ties and ids != sorted(ids):
        problems.append(f"{where} rating ties not broken by id: {ids}")
    if not expected.unsure:
        problems += facet_problems(where, body["facets"], expected, people)
    return problems


def facet_problems(where: str, facets: dict, expected: Expected, people: dict[int, Person]) -> list[str]:
    counts = {"technique": Counter(), "condition": Counter()}
    for pid in expected.distances:
        counts["technique"].update(people[pid].techniques)
        counts["condition"].update(people[pid].conditions)
    problems = []
    for name, counter in counts.items():
        got = {slug: n for slug, n in facets[name].items() if n}
        if got != dict(counter):
            problems.append(f"{where} {name} facets {got}, oracle {dict(counter)}")
    return problems


def sorts_for(params: dict) -> list[str | None]:
    return ["distance", "rating", "relevance", None] if "lat" in params else ["rating", "relevance", None]


# -- the tests ------------------------------------------------------------------------------------
def test_random_filters_and_places_match_the_oracle(client, world):
    rng = random.Random(SEED + 1)
    by_id = {p.id: p for p in world}
    places = [place for p in world for place in p.places]
    problems = []
    for n in range(QUERIES):
        params = random_query(rng, places)
        expected = oracle(world, params)
        # One sort per query in turn, and one more at random, so each order is walked many times.
        chosen = sorts_for(params)
        for sort in {chosen[n % len(chosen)], rng.choice(chosen)}:
            query = {**params, "as_near": n % 4 == 0}
            if sort:
                query["sort"] = sort
            problems += check(client, query, expected, by_id)
    assert not problems, "\n".join(problems[:20])


def text_oracle(candidates: list[Person], words: list[str]) -> tuple[set[int], bool]:
    """Of the people the place and filters leave, the ids a query of made-up words must return,
    and whether it must be relaxed (the contract: partial matches only when all-words finds nothing)."""
    every = {p.id for p in candidates if set(words) <= p.rare}
    if every or len(words) == 1:
        return every, False
    some = {p.id for p in candidates if set(words) & p.rare}
    return some, bool(some)


TEXT_QUERIES = [
    "zephyrine",
    "Vorticelle",
    "QUANDRIX",
    "zephyrine vorticelle",
    "vorticelle, zephyrine!",
    "zephyrine quandrix",
    "quandrix vorticelle",
    "zephyrine vorticelle quandrix",
]


def test_made_up_words_find_exactly_the_approaches_holding_them(client, world):
    rng = random.Random(SEED + 2)
    by_id = {p.id: p for p in world}
    problems = []
    for q in TEXT_QUERIES:
        words = re.findall(r"\w+", q.lower())
        want, relaxed = text_oracle(world, words)
        assert want, f"the planted words of {q!r} should be somewhere"
        for sort in ("relevance", "rating"):
            results, body = walk(client, {"q": q, "per_page": rng.randint(1, 6), "sort": sort})
            got = sorted(r["id"] for r in results)
            if (got, body["total"], body["relaxed"]) != (sorted(want), len(want), relaxed):
                problems.append(
                    f"{q!r} {sort}: {got} total {body['total']} relaxed {body['relaxed']}, "
                    f"oracle {sorted(want)} relaxed {relaxed}"
                )
        # The same words within a radius of somebody who has one of them, sometimes accepting only.
        planted = [p for p in world if p.places and set(words) & p.rare]
        for _ in range(4):
            lat, lon = rng.choice(rng.choice(planted).places)
            params = {"lat": lat, "lon": lon, "radius_km": rng.choice((20, 80, 300)), "per_page": 3}
            if rng.random() < 0.5:
                params["accepting"] = "true"
            nearby = oracle(world, params)
            want, relaxed = text_oracle([by_id[i] for i in nearby.distances], words)
            expected = Expected({i: nearby.distances[i] for i in want}, nearby.unsure)
            problems += check(client, {**params, "q": q, "sort": "distance"}, expected, by_id)
            if not nearby.unsure:
                body = search(client, {**params, "q": q})
                if body["relaxed"] is not relaxed:
                    problems.append(f"{q!r} {params}: relaxed {body['relaxed']}, oracle {relaxed}")
    assert not problems, "\n".join(problems)


def test_an_empty_directory_is_answered_by_the_index(client):
    for params in ({"q": "zephyrine"}, {"lat": 30.2672, "lon": -97.7431}, {}):
        body = search(client, {**params, "per_page": 5})
        assert (body["total"], body["results"]) == (0, [])
