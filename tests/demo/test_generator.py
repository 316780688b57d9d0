"""The demo generator: counts, real places, determinism, outbox rows, re-runs, and honest texts."""

import re
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa
import zipcodes
from flask import Flask

from directory.accounts.models import User
from directory.catalog.models import ClientGroup, Condition, Issuer, Technique
from directory.demo.generator import DemoDataError, generate
from directory.demo.places import distance_km
from directory.extensions import db
from directory.practitioners.models import PracticeLocation, Practitioner
from directory.search.models import SearchOutbox

# DOMAIN.md's tables (the migration seeds these in real databases).
TECHNIQUES = {
    "neuromuscular-therapy": "Neuromuscular therapy (NMT)",
    "trigger-point-therapy": "Trigger point therapy / myotherapy",
    "myofascial-release": "Myofascial release",
    "positional-release": "Positional release",
    "pnf-stretching": "Proprioceptive neuromuscular facilitation (PNF)",
    "flexibility-stretching": "Flexibility stretching",
    "friction-techniques": "Friction techniques",
    "deep-tissue": "Deep tissue massage",
    "sports-massage": "Sports massage",
    "swedish-massage": "Swedish massage",
}
CONDITIONS = {
    "chronic-pain": "Chronic pain",
    "back-pain": "Back pain",
    "neck-pain": "Neck and shoulder pain",
    "headaches": "Chronic headaches",
    "muscle-spasms": "Muscle spasms",
    "fibromyalgia": "Fibromyalgia",
    "arthritis": "Arthritis",
    "repetitive-strain": "Repetitive strain injuries",
    "postural-imbalance": "Postural imbalance",
    "nerve-compression": "Nerve compression / sciatica",
    "soft-tissue-injury": "Soft tissue injury",
    "post-surgical": "Post-surgical rehabilitation",
    "limited-mobility": "Limited range of motion",
    "stress": "Stress and tension",
}
CLIENT_GROUPS = {
    "athletes": "Athletes",
    "office-workers": "Office workers",
    "chronic-conditions": "People with chronic conditions",
    "post-surgery": "Post-surgery patients",
    "stress-sufferers": "People under high stress",
}
ISSUERS = [
    (
        "ncbtmb",
        "National Certification Board for Therapeutic Massage & Bodywork",
        "certification-board",
        "US",
    ),
    ("camtc", "California Massage Therapy Council", "licensing-board", "US-CA"),
    ("tx-tdlr", "Texas Department of Licensing and Regulation, Massage Therapy", "licensing-board", "US-TX"),
    ("fl-bmt", "Florida Board of Massage Therapy", "licensing-board", "US-FL"),
    ("ny-sed", "New York State Education Department, Massage Therapy", "licensing-board", "US-NY"),
    ("wa-doh", "Washington State Department of Health, Massage Therapy", "licensing-board", "US-WA"),
    (
        "il-idfpr",
        "Illinois Department of Financial and Professional Regulation, Massage Therapy",
        "licensing-board",
        "US-IL",
    ),
    ("nmt-center", "NMT Center (NMT American version)", "training-program", "US"),
    ("st-john-nmt", "St. John Method of Neuromuscular Therapy", "training-program", "US"),
    (
        "namtpt",
        "National Association of Myofascial Trigger Point Therapists (CMTPT)",
        "training-program",
        "US",
    ),
]
# DOMAIN.md's "plain words -> vocabulary" table.
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


def make_app(tmp_path: Path) -> Flask:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 't.db'}",
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x",
    }
    try:
        from directory import create_app

        app = create_app(config)
    except ImportError:
        # The factory imports every blueprint; while those are being written, a bare app with the
        # same database extension is all the generator needs.
        import directory.models  # noqa: F401  (the whole schema)

        app = Flask("demo-tests")
        app.config.update(config)
        db.init_app(app)
    with app.app_context():
        db.create_all()
    return app


def seed_catalog() -> None:
    db.session.execute(sa.insert(Technique), [{"slug": s, "name": n} for s, n in TECHNIQUES.items()])
    db.session.execute(sa.insert(Condition), [{"slug": s, "name": n} for s, n in CONDITIONS.items()])
    db.session.execute(sa.insert(ClientGroup), [{"slug": s, "name": n} for s, n in CLIENT_GROUPS.items()])
    db.session.execute(
        sa.insert(Issuer),
        [dict(zip(("slug", "name", "kind", "jurisdiction"), row, strict=True)) for row in ISSUERS],
    )
    db.session.commit()


def fresh_app(tmp_path: Path) -> Flask:
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = make_app(tmp_path)
    with app.app_context():
        seed_catalog()
    return app


@pytest.fixture
def demo_app(tmp_path):
    app = fresh_app(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()


def practitioners() -> list[Practitioner]:
    return list(db.session.scalars(sa.select(Practitioner).order_by(Practitioner.id)))


def snapshot() -> list[tuple]:
    """Everything generated from the seed (not ids or timestamps), in email order."""
    rows = sorted(practitioners(), key=lambda p: int(p.user.email.split("-")[2].split("@")[0]))
    return [
        (
            p.user.email,
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
            tuple(t.slug for t in p.techniques),
            tuple(c.slug for c in p.conditions),
            tuple(g.slug for g in p.client_groups),
            tuple((x.label, x.address, x.city, x.region, x.postal_code, x.lat, x.lon) for x in p.locations),
        )
        for p in rows
    ]


def test_creates_the_requested_practitioners(demo_app):
    summary = generate(count=40, seed=7, batch_size=15)

    assert summary["practitioners"] == 40 and summary["seed"] == 7 and summary["seconds"] >= 0
    assert summary["locations"] == db.session.scalar(sa.select(sa.func.count()).select_from(PracticeLocation))
    found = practitioners()
    assert len(found) == 40
    assert sorted(p.user.email for p in found) == sorted(f"demo-7-{n}@example.org" for n in range(1, 41))
    for p in found:
        assert p.user.role == "practitioner" and p.user.password_hash is None
        assert 1 <= len(p.techniques) <= 4 and 1 <= len(p.conditions) <= 5 and len(p.client_groups) <= 3
        assert 1 <= len(p.locations) <= 2
        assert 50 <= p.price_min <= p.price_max <= 200
        assert 1985 <= p.practicing_since <= 2025
        assert "en" in p.languages
        assert (p.accepting_confirmed_at is not None) == p.accepting_clients
        assert p.created_at.tzinfo is not None and p.created_at.utcoffset() == UTC.utcoffset(None)
        assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", p.phone)
        assert p.website == "" or p.website.startswith("https://")


def test_locations_are_real_us_zip_codes(demo_app):
    generate(count=60, seed=2)

    for loc in db.session.scalars(sa.select(PracticeLocation)):
        assert loc.country == "US" and loc.geocoded_from == "gazetteer" and loc.label and loc.address
        assert any(s <= loc.lat <= n and w <= loc.lon <= e for s, n, w, e in US_BOXES), loc
        (zip_,) = zipcodes.matching(loc.postal_code)
        assert (zip_["city"], zip_["state"]) == (loc.city, loc.region)
        assert distance_km(loc.lat, loc.lon, float(zip_["lat"]), float(zip_["long"])) < 2.0


def test_same_seed_same_data_and_other_seed_differs(tmp_path):
    results = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        with fresh_app(tmp_path / name).app_context():
            generate(count=30, seed=seed)
            results[name] = snapshot()
            db.session.remove()

    assert results["a"] == results["b"]
    strip_email = lambda rows: [row[1:] for row in rows]  # noqa: E731
    assert strip_email(results["a"]) != strip_email(results["c"])
    assert len({row[1:4] for row in results["a"]}) == 30  # name, headline and approach together vary


def test_outbox_row_for_every_practitioner(demo_app):
    generate(count=25, seed=1, batch_size=10)

    outboxed = set(db.session.scalars(sa.select(SearchOutbox.practitioner_id)))
    assert outboxed == {p.id for p in practitioners()}


def test_running_twice_continues_numbering(demo_app, tmp_path):
    generate(count=6, seed=3)
    generate(count=6, seed=3)
    generate(count=2, seed=4)
    twice = snapshot()

    emails = [row[0] for row in twice]
    assert sorted(e for e in emails if e.startswith("demo-3-")) == sorted(
        f"demo-3-{n}@example.org" for n in range(1, 13)
    )
    # Practitioner n depends only on (seed, n): two runs of 6 are one run of 12.
    with fresh_app(tmp_path / "once").app_context():
        generate(count=12, seed=3)
        assert snapshot() == [row for row in twice if row[0].startswith("demo-3-")]
        db.session.remove()


def test_texts_use_plain_words_honestly(demo_app):
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


def test_hooks_see_each_batch_inside_its_transaction(demo_app):
    batches = []
    generate(count=10, seed=1, batch_size=4, hooks=[batches.append])

    assert [len(b.practitioners) for b in batches] == [4, 4, 2]
    assert [p.n for b in batches for p in b.practitioners] == list(range(1, 11))
    ids = [pid for b in batches for pid in b.practitioner_ids]
    assert sorted(ids) == sorted(p.id for p in practitioners())
    for b in batches:
        emails = db.session.scalars(sa.select(User.email).where(User.id.in_(b.user_ids)).order_by(User.id))
        assert list(emails) == [p.email for p in b.practitioners]


def test_no_progress_bar_off_a_terminal(demo_app, capsys):
    generate(count=3, seed=1)
    assert capsys.readouterr().err == ""
    generate(count=3, seed=1, progress=True)
    assert "Demo practitioners" in capsys.readouterr().err


def test_refuses_a_database_without_the_catalog(tmp_path):
    app = make_app(tmp_path)
    with app.app_context(), pytest.raises(DemoDataError, match="techniques lacks"):
        generate(count=1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        db.session.remove()


def test_zero_and_negative_counts(demo_app):
    assert generate(count=0)["practitioners"] == 0
    with pytest.raises(ValueError, match="count"):
        generate(count=-1)
