"""One demo practitioner as plain data, made from (seed, n) alone.

Each practitioner has its own random stream seeded by the string "demo:{seed}:{n}" (str seeds are
hashed with SHA-512, so they do not depend on PYTHONHASHSEED). Practitioner n of a seed is therefore
the same whichever run, batch or database makes it: two runs of 100 give the same people as one of 200.
"""

import random
from dataclasses import dataclass

from directory.demo import names, texts
from directory.demo.places import PlacePicker, jitter

YEAR_MIN, YEAR_MAX = 1985, 2025  # fixed, not today's year: the same seed gives the same data next year
PRICE_MIN, PRICE_MAX = 50, 200


@dataclass(frozen=True)
class Theme:
    """A kind of practice: the techniques, conditions and client groups that go together."""

    techniques: tuple[str, ...]
    conditions: tuple[str, ...]
    client_groups: tuple[str, ...]


THEMES: tuple[Theme, ...] = (
    Theme(  # the desk job
        ("trigger-point-therapy", "neuromuscular-therapy", "myofascial-release", "deep-tissue"),
        ("neck-pain", "headaches", "repetitive-strain", "postural-imbalance", "back-pain"),
        ("office-workers",),
    ),
    Theme(
        ("sports-massage", "pnf-stretching", "flexibility-stretching", "deep-tissue", "friction-techniques"),
        ("soft-tissue-injury", "limited-mobility", "muscle-spasms", "back-pain"),
        ("athletes",),
    ),
    Theme(
        ("myofascial-release", "positional-release", "neuromuscular-therapy", "swedish-massage"),
        ("chronic-pain", "fibromyalgia", "arthritis", "back-pain", "limited-mobility"),
        ("chronic-conditions",),
    ),
    Theme(
        ("friction-techniques", "myofascial-release", "pnf-stretching", "flexibility-stretching"),
        ("post-surgical", "limited-mobility", "soft-tissue-injury"),
        ("post-surgery",),
    ),
    Theme(
        ("swedish-massage", "myofascial-release", "positional-release", "deep-tissue"),
        ("stress", "headaches", "muscle-spasms", "neck-pain"),
        ("stress-sufferers",),
    ),
    Theme(  # the nerve
        ("neuromuscular-therapy", "trigger-point-therapy", "positional-release", "myofascial-release"),
        ("nerve-compression", "back-pain", "chronic-pain", "muscle-spasms"),
        (),
    ),
)
ALL_TECHNIQUES = tuple(texts.TECHNIQUES)
ALL_CONDITIONS = tuple(texts.CONDITIONS)
ALL_CLIENT_GROUPS = tuple(texts.CLIENT_GROUPS)


@dataclass(frozen=True)
class DemoLocation:
    label: str
    address: str
    city: str
    region: str
    postal_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class DemoPractitioner:
    n: int
    email: str
    display_name: str
    legal_name: str | None
    headline: str
    approach: str
    techniques: tuple[str, ...]
    conditions: tuple[str, ...]
    client_groups: tuple[str, ...]
    practicing_since: int
    languages: tuple[str, ...]
    accepting_clients: bool
    mobile: bool
    price_min: int
    price_max: int
    phone: str
    website: str
    locations: tuple[DemoLocation, ...]


def demo_email(seed: int, n: int) -> str:
    return f"demo-{seed}-{n}@example.org"


def record_rng(seed: int, n: int, purpose: str = "profile") -> random.Random:
    """The random stream for one practitioner; later generators (credentials, reviews) pass their own
    purpose so adding them never changes the profiles."""
    return random.Random(f"demo:{seed}:{n}:{purpose}")  # noqa: S311  # nosec B311: demo data, not secrets


def make_practitioner(seed: int, n: int, places: PlacePicker) -> DemoPractitioner:
    rng = record_rng(seed, n)
    display_name, pool = names.pick_name(rng)
    techniques, conditions, client_groups = _vocabulary(rng)
    practicing_since = YEAR_MAX - min(YEAR_MAX - YEAR_MIN, int(rng.expovariate(1 / 9)))
    languages = ("en", pool.language) if rng.random() < pool.language_chance else ("en",)
    mobile = rng.random() < 0.2
    facts = texts.TextFacts(techniques, conditions, client_groups, practicing_since, mobile, languages)
    price_min = rng.randrange(PRICE_MIN, 151, 5)
    locations, area_code = _locations(rng, places)
    return DemoPractitioner(
        n=n,
        email=demo_email(seed, n),
        display_name=display_name,
        legal_name=_legal_name(seed, n, display_name),
        headline=texts.headline(rng, facts),
        approach=texts.approach(rng, facts),
        techniques=techniques,
        conditions=conditions,
        client_groups=client_groups,
        practicing_since=practicing_since,
        languages=languages,
        accepting_clients=rng.random() < 0.75,
        mobile=mobile,
        price_min=price_min,
        price_max=min(PRICE_MAX, price_min + rng.randrange(0, 61, 5)),
        phone=_phone(rng, area_code),
        website=_website(rng, display_name),
        locations=locations,
    )


def _legal_name(seed: int, n: int, display_name: str) -> str | None:
    """The name on the licence: mostly the display name, sometimes with a middle name; a few have
    none yet, as profiles made before legal names existed (their next re-check asks for it)."""
    rng = record_rng(seed, n, "legal")
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.25:
        first, last = display_name.split(" ", 1)
        return f"{first} {rng.choice(names.NAME_POOLS[0].first)} {last}"
    return display_name


def _vocabulary(rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """1-4 techniques, 1-5 conditions, 0-3 client groups, mostly from one or two themes."""
    themes = rng.sample(THEMES, 2 if rng.random() < 0.35 else 1)
    techniques = _draw(rng, [s for t in themes for s in t.techniques], ALL_TECHNIQUES, rng.randint(1, 4))
    conditions = _draw(rng, [s for t in themes for s in t.conditions], ALL_CONDITIONS, rng.randint(1, 5))
    groups = [s for t in themes for s in t.client_groups if rng.random() < 0.8]
    if rng.random() < 0.1:
        groups.append(rng.choice(ALL_CLIENT_GROUPS))
    return techniques, conditions, tuple(dict.fromkeys(groups))[:3]


def _draw(rng: random.Random, preferred: list[str], everything: tuple[str, ...], k: int) -> tuple[str, ...]:
    """k distinct slugs: the themes' own, in a shuffled order, and now and then one from outside."""
    pool = list(dict.fromkeys(preferred))  # dedupe, keeping a deterministic order (never a set)
    rng.shuffle(pool)
    if rng.random() < 0.15:
        pool.insert(rng.randint(0, len(pool)), rng.choice(everything))
    return tuple(dict.fromkeys(pool))[:k]


def _locations(rng: random.Random, places: PlacePicker) -> tuple[tuple[DemoLocation, ...], str]:
    """The places, and the area code of the first one for the phone number."""
    city = places.pick_city(rng)
    count = 2 if rng.random() < 0.25 else 1
    labels = (rng.choice(names.FIRST_LABELS), rng.choice(names.SECOND_LABELS))
    result = []
    area_code = ""
    for i in range(count):
        # A second place is usually across town, sometimes on the same ZIP: both are real practices.
        zip_ = places.pick_zip(rng, city)
        area_code = area_code or zip_.area_code
        lat, lon = jitter(rng, zip_.lat, zip_.lon)
        result.append(
            DemoLocation(labels[i], names.pick_address(rng), zip_.city, zip_.state, zip_.code, lat, lon)
        )
    return tuple(result), area_code


def _phone(rng: random.Random, area_code: str) -> str:
    # 555-0100 to 555-0199 are the numbers set aside for fiction; the area code fits the place.
    return f"({area_code or '555'}) 555-{rng.randint(100, 199):04d}"


def _website(rng: random.Random, display_name: str) -> str:
    if rng.random() >= 0.35:
        return ""
    return f"https://{names.ascii_slug(display_name)}-{rng.choice(names.WEBSITE_WORDS)}.example.com"
