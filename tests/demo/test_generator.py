"""The demo generator: counts, real places, determinism, outbox rows, re-runs, and honest texts.

Runs on the suite's migrated database (the migrations seed the catalog the generator draws on).
"""

import re
from datetime import UTC

import pytest
import sqlalchemy as sa
import zipcodes

from directory.accounts.models import User
from directory.catalog.models import ClientGroup, Condition, Issuer, Technique
from directory.demo.generator import DemoDataError, generate
from directory.demo.places import load_places
from directory.demo.profiles import DemoPractitioner, make_practitioner
from directory.extensions import db
from directory.geo.distance import haversine_km
from directory.practitioners.models import (
    PracticeLocation,
    Practitioner,
    practitioner_client_groups,
    practitioner_conditions,
    practitioner_techniques,
)
from directory.search.models import SearchOutbox
from tests.factories import count

pytestmark = pytest.mark.usefixtures("app")

# Rows of the plain words -> vocabulary table (directory/catalog/plain_words.toml) that demo texts use.
SYNONYMS = [
    (("knots", "knot", "tight spots", "trigger points"), {"trigger-point-therapy", "neuromuscular-therapy"}),
    (("NMT", "neuro massage", "neuromuscular"), {"neuromuscular-therapy"}),
    (("PNF",), {"pnf-stretching"}),
    (
        ("stiff", "stiffness", "tight", "range of motion"),
        {"flexibility-stretching", "pnf-stretching", "limited-mobility"},
    ),
    (("scar tissue", "adhesions"), {"friction-techniques", "post-surgical"}),
    (("headache", "migraine", "tension headache"), {"headaches"}),
    (("stiff neck", "shoulder pain"), {"neck-pain"}),
    (("lower back", "lumbar"), {"back-pain"}),
    (("sciatica", "pinched nerve", "nerve pain"), {"nerve-compression"}),
    (("desk job", "office", "computer work"), {"office-workers", "repetitive-strain", "postural-imbalance"}),
    (("posture", "slouching"), {"postural-imbalance"}),
    (("RSI", "carpal tunnel"), {"repetitive-strain"}),
    (("runner", "running", "sport", "training"), {"athletes", "sports-massage"}),
    (("after surgery", "surgery", "rehab"), {"post-surgical", "post-surgery"}),
    (("anxious", "anxiety", "stressed", "burnout"), {"stress", "stress-sufferers"}),
    (("referred pain",), {"trigger-point-therapy", "chronic-pain"}),
]
# Contiguous states, Alaska, Hawaii: (south, north, west, east).
US_BOXES = [(24.4, 49.5, -125.0, -66.9), (51.0, 71.5, -180.0, -129.0), (18.8, 22.4, -160.5, -154.7)]


def practitioners() -> list[Practitioner]:
    return list(db.session.scalars(sa.select(Practitioner).order_by(Practitioner.id)))


def _number(email: str) -> int:
    return int(email.split("-")[2].split("@")[0])


def snapshot(seed: int) -> list[tuple]:
    """Everything one seed's practitioners got from it (not ids or timestamps), in number order."""
    rows = [p for p in practitioners() if p.user.email.startswith(f"demo-{seed}-")]
    rows.sort(key=lambda p: _number(p.user.email))
    return [
        _row(
            p.user.email,
            p,
            [t.slug for t in p.techniques],
            [c.slug for c in p.conditions],
            [g.slug for g in p.client_groups],
            p.locations,
        )
        for p in rows
    ]


def expected(seed: int, numbers: range) -> list[tuple]:
    """What `snapshot(seed)` must read back: practitioners made afresh from (seed, n) alone."""
    places = load_places()
    made: list[DemoPractitioner] = [make_practitioner(seed, n, places) for n in numbers]
    return [_row(p.email, p, p.techniques, p.conditions, p.client_groups, p.locations) for p in made]


def _row(email, p, techniques, conditions, client_groups, locations) -> tuple:
    # Link tables keep no order, so the slugs compare as sorted tuples; locations keep theirs (by id).
    return (
        email,
        p.display_name,
        p.headline,
        p.approach,
        p.practicing_since,
        tuple(p.languages),
        p.accepting_clients,
        p.mobile,
        p.price_min,
        p.price_max,
        p.phone,
        p.website,
        tuple(sorted(techniques)),
        tuple(sorted(conditions)),
        tuple(sorted(client_groups)),
        tuple((x.label, x.address, x.city, x.region, x.postal_code, x.lat, x.lon) for x in locations),
    )


def test_creates_the_requested_practitioners():
    summary = generate(count=40, seed=7, batch_size=15)

    assert summary["practitioners"] == 40 and summary["seed"] == 7 and summary["seconds"] >= 0
    assert summary["locations"] == count(PracticeLocation)
    found = practitioners()
    assert len(found) == 40
    assert sorted(p.user.email for p in found) == sorted(f"demo-7-{n}@example.org" for n in range(1, 41))
    for p in found:
        assert p.user.role == "practitioner" and p.user.password_hash is None
        assert p.user.email_confirmed_at is not None  # demo accounts count as confirmed, so they are listed
        assert 1 <= len(p.techniques) <= 4 and 1 <= len(p.conditions) <= 5 and len(p.client_groups) <= 3
        assert 1 <= len(p.locations) <= 2
        assert 50 <= p.price_min <= p.price_max <= 200
        assert 1985 <= p.practicing_since <= 2025
        assert "en" in p.languages
        assert (p.accepting_confirmed_at is not None) == p.accepting_clients
        assert p.created_at.tzinfo is not None and p.created_at.utcoffset() == UTC.utcoffset(None)
        assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", p.phone)
        assert p.website == "" or p.website.startswith("https://")


def test_locations_are_real_us_zip_codes():
    generate(count=60, seed=2)

    for loc in db.session.scalars(sa.select(PracticeLocation)):
        assert loc.country == "US" and loc.geocoded_from == "gazetteer" and loc.label and loc.address
        assert any(s <= loc.lat <= n and w <= loc.lon <= e for s, n, w, e in US_BOXES), loc
        (zip_,) = zipcodes.matching(loc.postal_code)
        assert (zip_["city"], zip_["state"]) == (loc.city, loc.region)
        assert haversine_km(loc.lat, loc.lon, float(zip_["lat"]), float(zip_["long"])) < 2.0


def test_same_seed_same_data_and_other_seed_differs():
    generate(count=30, seed=5)
    generate(count=30, seed=6)
    five, six = snapshot(5), snapshot(6)

    # What was written is what (seed, n) makes on its own, made again here: a second generation.
    assert five == expected(5, range(1, 31))
    assert six == expected(6, range(1, 31))
    strip_email = lambda rows: [row[1:] for row in rows]  # noqa: E731
    assert strip_email(five) != strip_email(six)
    assert len({row[1:4] for row in five}) == 30  # name, headline and approach together vary


def test_outbox_row_for_every_practitioner():
    generate(count=25, seed=1, batch_size=10)

    outboxed = set(db.session.scalars(sa.select(SearchOutbox.practitioner_id)))
    assert outboxed == {p.id for p in practitioners()}


def test_running_twice_continues_numbering():
    generate(count=6, seed=3)
    generate(count=6, seed=3)
    generate(count=2, seed=4)
    twice = snapshot(3)

    assert [row[0] for row in twice] == [f"demo-3-{n}@example.org" for n in range(1, 13)]
    assert [row[0] for row in snapshot(4)] == ["demo-4-1@example.org", "demo-4-2@example.org"]
    # Practitioner n depends only on (seed, n): two runs of 6 are one run of 12.
    assert twice == expected(3, range(1, 13))


def test_texts_use_plain_words_honestly():
    generate(count=300, seed=11)
    found = practitioners()

    seen_rows = set()
    with_plain_words = 0
    for p in found:
        assert 2 <= len(re.findall(r"[.!?](?:\s|$)", p.approach)) <= 5, p.approach
        carried = {x.slug for x in (*p.techniques, *p.conditions, *p.client_groups)}
        hits = [i for i, (words, _) in enumerate(SYNONYMS) if any(_says(p.approach, word) for word in words)]
        with_plain_words += bool(hits)
        for i in hits:
            seen_rows.add(i)
            # A text that says "knots" carries trigger point therapy or NMT, and so on.
            assert SYNONYMS[i][1] & carried, (SYNONYMS[i][0], p.approach, carried)
    assert with_plain_words >= 0.9 * len(found)
    assert seen_rows == set(range(len(SYNONYMS)))
    assert len({p.approach for p in found}) > 0.9 * len(found)


def _says(text: str, phrase: str) -> bool:
    # Abbreviations match in their case only ("RSI", not "versions"); words in any case.
    flags = 0 if phrase.isupper() else re.IGNORECASE
    return re.search(rf"\b{re.escape(phrase)}\b", text, flags) is not None


def test_hooks_see_each_batch_inside_its_transaction():
    batches = []
    generate(count=10, seed=1, batch_size=4, hooks=[batches.append])

    assert [len(b.practitioners) for b in batches] == [4, 4, 2]
    assert [p.n for b in batches for p in b.practitioners] == list(range(1, 11))
    ids = [pid for b in batches for pid in b.practitioner_ids]
    assert sorted(ids) == sorted(p.id for p in practitioners())
    for b in batches:
        emails = db.session.scalars(sa.select(User.email).where(User.id.in_(b.user_ids)).order_by(User.id))
        assert list(emails) == [p.email for p in b.practitioners]


def test_no_progress_bar_off_a_terminal(capsys):
    generate(count=3, seed=1)
    assert capsys.readouterr().err == ""
    generate(count=3, seed=1, progress=True)
    assert "Demo practitioners" in capsys.readouterr().err


def test_refuses_a_database_without_the_catalog():
    # The app fixture puts the migrated catalog back after the test.
    for table in (practitioner_techniques, practitioner_conditions, practitioner_client_groups):
        db.session.execute(sa.delete(table))
    for model in (Technique, Condition, ClientGroup, Issuer):
        db.session.execute(sa.delete(model))
    db.session.commit()
    users = count(User)

    with pytest.raises(DemoDataError, match="techniques lacks"):
        generate(count=1)
    assert count(User) == users
    assert count(Practitioner) == 0


def test_zero_and_negative_counts():
    assert generate(count=0)["practitioners"] == 0
    with pytest.raises(ValueError, match="count"):
        generate(count=-1)


def _planned_rows(table: str) -> float:
    """The row count PostgreSQL's planner believes (pg_class.reltuples, which ANALYZE sets at once)."""
    return db.session.scalar(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})


def test_a_bulk_load_refreshes_the_planners_statistics_on_postgresql(runner):
    # A load of thousands of rows into tables the planner still thinks empty: its next card query
    # would scan every place. Only PostgreSQL keeps such statistics; SQLite has none to refresh.
    postgres = db.engine.dialect.name == "postgresql"
    summary = generate(count=3, seed=11)
    assert summary["statistics_refreshed"] is postgres
    if postgres:
        for table, model in (("practitioners", Practitioner), ("practice_locations", PracticeLocation)):
            assert _planned_rows(table) == count(model) > 0, table
    said = runner.invoke(args=["directory", "demo", "--count", "2", "--seed", "12"]).output
    assert ("Database statistics refreshed (ANALYZE)." in said) is postgres, said
    if postgres:
        assert _planned_rows("practitioners") == 5
