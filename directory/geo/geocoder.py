"""One geocoder with geopy's interface: the database cache, then the offline gazetteer, then an online
geopy geocoder only when configured (GEOCODER_ONLINE = "nominatim"). Needs an app context."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from geopy.exc import GeopyError
from geopy.location import Location
from sqlalchemy.exc import IntegrityError

from directory.extensions import db
from directory.geo.gazetteer import Gazetteer, get_gazetteer
from directory.geo.models import GeocodeCache

MAX_QUERY_LENGTH = 300  # the cache key's column width
EXTENSION_KEY = "directory_geocoder"
_OFF = (None, "", "none", "off")
_PROVIDERS = ("nominatim",)
# Nominatim names the settlement by its size; the first present is the one a profile calls its city.
_PLACE_KINDS = ("city", "town", "village", "hamlet", "municipality")

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)"
# NaN and infinity are matched on purpose, so that they are refused loudly rather than read as "no point".
_LATLON = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$", re.IGNORECASE)


class GeocodingUnavailable(Exception):
    """The online geocoder could not answer (timeout, network, refusal); the query may work later."""


def normalize_query(query: str) -> str:
    """The cache key: control characters dropped, whitespace collapsed, lower case."""
    printable = "".join(ch if ch.isprintable() else " " for ch in query)
    return " ".join(printable.split()).lower()


def validate_point(lat: float, lon: float) -> tuple[float, float]:
    """The point as floats; ValueError naming the coordinate when it is not on the globe."""
    return _coordinate("latitude", lat, 90.0), _coordinate("longitude", lon, 180.0)


def _coordinate(name: str, value: Any, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not -limit <= number <= limit:
        raise ValueError(f"{name} must be between {-limit:g} and {limit:g}, got {number:g}")
    return number


def parse_latlon(text: str) -> tuple[float, float] | None:
    """(lat, lon) from "30.27,-97.74"; None when the text is not of that shape, ValueError when the
    shape is right but the point is not on the globe."""
    match = _LATLON.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return validate_point(float(match.group(1)), float(match.group(2)))


@dataclass(frozen=True, slots=True)
class _Answer:
    lat: float
    lon: float
    label: str
    parts: dict[str, Any]
    source: str

    def location(self, cached: bool = False) -> Location:
        raw = {**self.parts, "source": self.source, "cached": cached}
        return Location(self.label, (self.lat, self.lon), raw)


class Geocoder:
    """geocode(query) -> geopy Location | None; the online geocoder is built on first need."""

    def __init__(
        self,
        *,
        online: str | None = None,
        user_agent: str = "practitioner-directory",
        timeout: float = 5.0,
        min_delay_seconds: float = 1.0,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        online = online.strip().lower() if isinstance(online, str) else online
        if online in _OFF:
            online = None
        elif online not in _PROVIDERS:
            raise ValueError(f"GEOCODER_ONLINE must be one of {_PROVIDERS} or empty, got {online!r}")
        self.online = online
        self.user_agent = user_agent
        self.timeout = float(timeout)
        self.min_delay_seconds = float(min_delay_seconds)
        self._gazetteer = gazetteer
        self._online_geocode: Callable[..., Location | None] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Geocoder:
        return cls(
            online=config.get("GEOCODER_ONLINE"),
            user_agent=config.get("GEOCODER_USER_AGENT", "practitioner-directory"),
            timeout=config.get("GEOCODER_TIMEOUT_SECONDS", 5),
            min_delay_seconds=config.get("GEOCODER_MIN_DELAY_SECONDS", 1.0),
        )

    def geocode(self, query: str) -> Location | None:
        key = normalize_query(query) if isinstance(query, str) else ""
        if not key or len(key) > MAX_QUERY_LENGTH:
            return None
        row = db.session.get(GeocodeCache, key)
        if row is not None:
            return _Answer(row.lat, row.lon, row.label, dict(row.parts or {}), row.source).location(True)
        answer = self._from_gazetteer(key)
        if answer is None and self.online:
            answer = self._from_online(key)
        if answer is None:
            return None
        _remember(key, answer)
        return answer.location()

    def _from_gazetteer(self, key: str) -> _Answer | None:
        place = (self._gazetteer or get_gazetteer()).lookup(key)
        if place is None:
            return None
        return _Answer(place.lat, place.lon, place.label, place.parts, "gazetteer")

    def _from_online(self, key: str) -> _Answer | None:
        geocode = self._online()
        try:
            found = geocode(key, addressdetails=True, language="en")
        except (GeopyError, OSError) as exc:
            raise GeocodingUnavailable(f"the online geocoder did not answer: {exc}") from exc
        if found is None:
            return None
        try:
            lat, lon = validate_point(found.latitude, found.longitude)
        except ValueError:
            return None  # a malformed answer is no answer
        label = (found.address or key)[:MAX_QUERY_LENGTH]
        return _Answer(lat, lon, label, _online_parts(found.raw or {}), "online")

    def _online(self) -> Callable[..., Location | None]:
        if self._online_geocode is None:
            with self._lock:
                if self._online_geocode is None:
                    self._online_geocode = self._build_online()
        return self._online_geocode

    def _build_online(self) -> Callable[..., Location | None]:
        # Imported late: geopy.geocoders pulls in every provider, and most processes never go online.
        from geopy.extra.rate_limiter import RateLimiter
        from geopy.geocoders import Nominatim

        nominatim = Nominatim(user_agent=self.user_agent, timeout=self.timeout)
        # No retries and no swallowing: a request should fail fast with GeocodingUnavailable rather
        # than sleep through retries or read a timeout as "no such place".
        return RateLimiter(
            nominatim.geocode,
            min_delay_seconds=self.min_delay_seconds,
            max_retries=0,
            error_wait_seconds=self.min_delay_seconds,
            swallow_exceptions=False,
        )


def _online_parts(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Nominatim's address details, in the shape the gazetteer gives."""
    address = raw.get("address") or {}
    country = (address.get("country_code") or "").upper() or None
    # "ISO3166-2-lvl4": "US-TX" gives the short region that the gazetteer's answers use.
    iso_region = address.get("ISO3166-2-lvl4") or ""
    if country and iso_region.startswith(f"{country}-"):
        region = iso_region.split("-", 1)[1]
    else:
        region = address.get("state")
    city = next((address[k] for k in _PLACE_KINDS if k in address), None)
    return {"city": city, "region": region, "postal_code": address.get("postcode"), "country": country}


def _remember(key: str, answer: _Answer) -> None:
    """Cache the answer inside the caller's transaction, without committing it."""
    # The caller's pending changes are flushed first so that their errors stay theirs.
    db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(
                GeocodeCache(
                    query=key,
                    lat=answer.lat,
                    lon=answer.lon,
                    label=answer.label[:MAX_QUERY_LENGTH],
                    source=answer.source,
                    parts=answer.parts,
                )
            )
    except IntegrityError:
        pass  # another request cached the same query a moment ago; its answer is as good


def get_geocoder() -> Geocoder:
    """The current app's geocoder, made on first use and kept in app.extensions."""
    extensions = current_app.extensions
    geocoder = extensions.get(EXTENSION_KEY)
    if geocoder is None:
        geocoder = extensions.setdefault(EXTENSION_KEY, Geocoder.from_config(current_app.config))
    return geocoder
