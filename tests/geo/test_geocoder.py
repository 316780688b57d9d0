import math

import pytest
import sqlalchemy as sa
from geopy.exc import GeocoderServiceError, GeocoderTimedOut
from geopy.location import Location

from directory.extensions import db
from directory.geo import geocoder as geocoder_module
from directory.geo.gazetteer import Place
from directory.geo.geocoder import (
    EXTENSION_KEY,
    Geocoder,
    GeocodingUnavailable,
    get_geocoder,
    normalize_query,
    parse_latlon,
    validate_point,
)
from directory.geo.models import GeocodeCache

AUSTIN = Place(30.2713, -97.7426, "Austin, TX 78701", "Austin", "TX", "78701", "US")


class CountingGazetteer:
    def __init__(self, answer: Place | None) -> None:
        self.answer = answer
        self.queries: list[str] = []

    def lookup(self, query: str) -> Place | None:
        self.queries.append(query)
        return self.answer


@pytest.fixture
def fake_gazetteer(monkeypatch):
    def install(answer: Place | None) -> CountingGazetteer:
        fake = CountingGazetteer(answer)
        monkeypatch.setattr(geocoder_module, "get_gazetteer", lambda: fake)
        return fake

    return install


@pytest.fixture
def no_online(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the online geocoder must not be built")

    monkeypatch.setattr("geopy.geocoders.Nominatim", refuse)


def fake_nominatim(monkeypatch, geocode):
    made = {}

    class FakeNominatim:
        def __init__(self, **kwargs):
            made.update(kwargs)
            self.geocode = geocode

    monkeypatch.setattr("geopy.geocoders.Nominatim", FakeNominatim)
    return made


@pytest.fixture
def online_app(make_app):
    """An app on the test database with the online geocoder configured, inside its app context."""
    app = make_app(
        GEOCODER_ONLINE="nominatim",
        GEOCODER_USER_AGENT="directory-tests",
        GEOCODER_TIMEOUT_SECONDS=3,
        GEOCODER_MIN_DELAY_SECONDS=0.0,
    )
    with app.app_context():
        yield app


def cache_rows() -> list[GeocodeCache]:
    return list(db.session.scalars(sa.select(GeocodeCache)))


# -- the cache --------------------------------------------------------------------------------------


def test_gazetteer_hit_is_cached_and_served_from_the_cache(app, fake_gazetteer, no_online):
    gazetteer = fake_gazetteer(AUSTIN)
    first = get_geocoder().geocode("Austin,  TX 78701")
    assert isinstance(first, Location)
    assert (first.latitude, first.longitude) == (30.2713, -97.7426)
    assert first.address == "Austin, TX 78701"
    assert first.raw == {**AUSTIN.parts, "source": "gazetteer", "cached": False}

    [row] = cache_rows()
    assert (row.query, row.source, row.label) == ("austin, tx 78701", "gazetteer", "Austin, TX 78701")
    assert row.parts == AUSTIN.parts

    # Same place, other spelling of whitespace and case: the cache answers, the gazetteer is not asked.
    second = get_geocoder().geocode("  AUSTIN, tx   78701 ")
    assert gazetteer.queries == ["austin, tx 78701"]
    assert second.raw == {**AUSTIN.parts, "source": "gazetteer", "cached": True}
    assert (second.point, second.address) == (first.point, first.address)


def test_caching_does_not_commit(app, fake_gazetteer, no_online):
    fake_gazetteer(AUSTIN)
    get_geocoder().geocode("78701")
    assert db.session().in_transaction()  # the caller's transaction decides
    db.session.commit()
    assert len(cache_rows()) == 1


def test_a_miss_is_not_cached(app, fake_gazetteer, no_online):
    gazetteer = fake_gazetteer(None)
    assert get_geocoder().geocode("nowhere at all") is None
    assert get_geocoder().geocode("nowhere at all") is None
    assert cache_rows() == []
    assert len(gazetteer.queries) == 2


def test_a_concurrent_insert_of_the_same_key_is_swallowed(app, fake_gazetteer, no_online, monkeypatch):
    fake_gazetteer(AUSTIN)
    get_geocoder().geocode("78701")
    db.session.commit()
    # Another request cached the key between our cache read and our insert.
    monkeypatch.setattr(db.session, "get", lambda *args, **kwargs: None)
    again = get_geocoder().geocode("78701")
    assert again.address == "Austin, TX 78701"
    monkeypatch.undo()
    db.session.commit()  # the caller's transaction survives the failed savepoint
    assert len(cache_rows()) == 1


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "x" * 301, None, 78701])
def test_empty_too_long_or_non_text_queries_return_none(app, fake_gazetteer, no_online, query):
    gazetteer = fake_gazetteer(AUSTIN)
    assert get_geocoder().geocode(query) is None
    assert gazetteer.queries == []


def test_real_gazetteer_through_the_geocoder(app, no_online):
    found = get_geocoder().geocode("Paris, France")
    assert found.raw["country"] == "FR"
    assert found.latitude == pytest.approx(48.853, abs=0.01)


# -- online -----------------------------------------------------------------------------------------


def test_online_is_never_built_unless_configured(app, fake_gazetteer, no_online):
    fake_gazetteer(None)
    assert get_geocoder().online is None
    assert get_geocoder().geocode("somewhere only the internet knows") is None


@pytest.mark.parametrize("error", [GeocoderTimedOut("slow"), GeocoderServiceError("502"), OSError("reset")])
def test_online_failure_becomes_geocoding_unavailable(fake_gazetteer, monkeypatch, error, online_app):
    fake_gazetteer(None)

    def geocode(query, **kwargs):
        raise error

    made = fake_nominatim(monkeypatch, geocode)
    with pytest.raises(GeocodingUnavailable):
        get_geocoder().geocode("somewhere")
    assert made == {"user_agent": "directory-tests", "timeout": 3.0}
    assert cache_rows() == []


def test_online_answer_is_cached_with_its_source(fake_gazetteer, monkeypatch, online_app):
    fake_gazetteer(None)
    calls = []
    raw = {
        "address": {
            "town": "Smallville", "state": "Kansas", "ISO3166-2-lvl4": "US-KS",
            "postcode": "66002", "country_code": "us",
        },
    }  # fmt: skip

    def geocode(query, **kwargs):
        calls.append((query, kwargs))
        return Location("Smallville, Kansas, United States", (39.5, -95.1), raw)

    fake_nominatim(monkeypatch, geocode)
    found = get_geocoder().geocode("Smallville KS")
    assert found.raw == {
        "city": "Smallville", "region": "KS", "postal_code": "66002", "country": "US",
        "source": "online", "cached": False,
    }  # fmt: skip
    assert calls == [("smallville ks", {"addressdetails": True, "language": "en"})]
    assert get_geocoder().geocode("smallville ks").raw["cached"] is True
    assert len(calls) == 1
    [row] = cache_rows()
    assert row.source == "online"


def test_gazetteer_answers_before_online(fake_gazetteer, monkeypatch, online_app):
    fake_gazetteer(AUSTIN)

    def geocode(query, **kwargs):
        raise AssertionError("the gazetteer knew this one")

    fake_nominatim(monkeypatch, geocode)
    assert get_geocoder().geocode("78701").raw["source"] == "gazetteer"


def test_online_nothing_found_is_none(fake_gazetteer, monkeypatch, online_app):
    fake_gazetteer(None)
    fake_nominatim(monkeypatch, lambda query, **kwargs: None)
    assert get_geocoder().geocode("nowhere") is None


# -- configuration ----------------------------------------------------------------------------------


def test_geocoder_is_kept_per_app(app):
    assert get_geocoder() is get_geocoder()
    assert app.extensions[EXTENSION_KEY] is get_geocoder()


@pytest.mark.parametrize("value", [None, "", "none", "off", " OFF "])
def test_offline_settings(value):
    assert Geocoder(online=value).online is None


def test_unknown_online_provider_is_refused():
    with pytest.raises(ValueError, match="GEOCODER_ONLINE"):
        Geocoder(online="googel")


# -- coordinates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30.27,-97.74", (30.27, -97.74)),
        ("30.27, -97.74", (30.27, -97.74)),
        ("  +30.27 ,  -97.74  ", (30.27, -97.74)),
        ("-90,180", (-90.0, 180.0)),
        ("0,0", (0.0, 0.0)),
        ("1e1,2", (10.0, 2.0)),
        (".5,-.5", (0.5, -0.5)),
        ("abc", None),
        ("", None),
        ("30.27", None),
        ("30.27 -97.74", None),
        ("1,2,3", None),
        ("a,b", None),
        ("Austin, TX", None),
        ("78701", None),
        (None, None),
    ],
)
def test_parse_latlon(text, expected):
    assert parse_latlon(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91,0", "latitude must be between -90 and 90"),
        ("-90.0001,0", "latitude"),
        ("0,180.5", "longitude must be between -180 and 180"),
        ("0,-181", "longitude"),
        ("nan,1", "latitude must be a finite number"),
        ("1,NaN", "longitude must be a finite number"),
        ("inf,0", "latitude must be a finite number"),
        ("0,-Infinity", "longitude must be a finite number"),
    ],
)
def test_parse_latlon_out_of_range(text, message):
    with pytest.raises(ValueError, match=message):
        parse_latlon(text)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(90.5, 0), (0, 200), (math.nan, 0), (0, math.inf), ("x", 0), (None, 0)],
)
def test_validate_point_refuses(lat, lon):
    with pytest.raises(ValueError):
        validate_point(lat, lon)


def test_validate_point_returns_floats():
    assert validate_point(30, "-97.5") == (30.0, -97.5)


@pytest.mark.parametrize(("query", "key"), [("  Austin,\tTX  ", "austin, tx"), ("A  B\nC", "a b c")])
def test_normalize_query(query, key):
    assert normalize_query(query) == key
