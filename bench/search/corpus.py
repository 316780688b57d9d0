"""What the references share: the practitioners read once from the bench's database, how a query's
text is cut into concepts, and the geometry (bounding boxes, nearest place).

The references see the same text the engine indexes (name, headline, approach, the names of the
profile's techniques, conditions and client groups, its cities) and give a query's words the same
meaning: each concept (a word, or a known phrase such as "desk job") must match, as the word itself
or as one of the vocabulary slugs the catalog's plain-words table gives it (with the plurals people type);
when that finds nothing, a query of two or more concepts is asked again with any concept matching
(the API's `relaxed` answer). The table is copied here rather than imported so the bench does not
move when the engine's code does. No reference corrects spelling: a misspelled word finds nothing.
"""

import math
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from directory.credentials import standing
from directory.geo.distance import EARTH_RADIUS_KM, haversine_km

KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
NO_EXPIRY = date.max.toordinal()

_STOP_TEXT = (
    "a an and are as at be by can for from have if in is it may not of on or that the this to us we"
    " when will with yet you your after"  # "after" only on its own; "after surgery" is a phrase below
    " my me i im our need needs want looking someone who near help please some very really get got am do does"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())
_SYNONYMS = (
    (
        "knots, knot, tight spots, tight spot, trigger points, trigger point",
        "trigger-point-therapy, neuromuscular-therapy",
    ),
    ("nmt, neuro massage, neuromuscular", "neuromuscular-therapy"),
    ("pnf", "pnf-stretching"),
    ("stiff, stiffness, tight, range of motion", "flexibility-stretching, pnf-stretching, limited-mobility"),
    ("scar tissue, adhesions", "friction-techniques, post-surgical"),
    ("headache, headaches, migraine, migraines, tension headache", "headaches"),
    ("stiff neck, stiff necks, shoulder pain", "neck-pain"),
    ("lower back, lumbar", "back-pain"),
    ("sciatica, pinched nerve, pinched nerves, nerve pain", "nerve-compression"),
    ("desk job, desk jobs, office, computer work", "office-workers, repetitive-strain, postural-imbalance"),
    ("posture, slouching", "postural-imbalance"),
    ("rsi, carpal tunnel", "repetitive-strain"),
    ("runner, runners, running, sport, sports, training", "athletes, sports-massage"),
    ("after surgery, surgery, rehab", "post-surgical, post-surgery"),
    ("anxious, anxiety, stressed, burnout", "stress, stress-sufferers"),
    ("referred pain", "trigger-point-therapy, chronic-pain"),
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    phrase.strip(): tuple(s.strip() for s in slugs.split(","))
    for words, slugs in _SYNONYMS
    for phrase in words.split(",")
}
MAX_PHRASE = max(len(p.split()) for p in SYNONYMS)
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@dataclass(frozen=True)
class Concept:
    words: tuple[str, ...]  # one word, or the words of a known phrase
    slugs: tuple[str, ...] = ()

    @property
    def phrase(self) -> str:
        return " ".join(self.words)


def concepts(text: str | None) -> list[Concept]:
    """The query's concepts, longest known phrase first, stop words dropped."""
    words = [w.lower() for w in WORD.findall(text or "")]
    found: list[Concept] = []
    i = 0
    while i < len(words):
        for size in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            if phrase in SYNONYMS:
                found.append(Concept(tuple(words[i : i + size]), SYNONYMS[phrase]))
                i += size
                break
        else:
            if words[i] not in STOP_WORDS:
                found.append(Concept((words[i],)))
            i += 1
    return found


@dataclass(slots=True)
class Doc:
    pid: int
    text: str  # lower-cased
    slugs: tuple[str, ...]
    since: int  # practicing_since; 9999 when unknown, so a min_years filter excludes it
    verified_until: int  # date ordinal of the last day a live verified credential holds; 0: none
    places: tuple[tuple[float, float], ...]


def load_corpus(db_path: str) -> list[Doc]:
    """Every practitioner with the facts the references index, straight from the bench's SQLite file."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        names: dict[int, list[str]] = defaultdict(list)
        slugs: dict[int, list[str]] = defaultdict(list)
        for link, table, column in (
            ("practitioner_techniques", "techniques", "technique_id"),
            ("practitioner_conditions", "conditions", "condition_id"),
            ("practitioner_client_groups", "client_groups", "client_group_id"),
        ):
            sql = (
                f"SELECT l.practitioner_id, v.name, v.slug FROM {link} l JOIN {table} v ON v.id = l.{column}"  # noqa: S608
            )
            for pid, name, slug in con.execute(sql):
                names[pid].append(name)
                slugs[pid].append(slug)
        places: dict[int, list[tuple[float, float]]] = defaultdict(list)
        cities: dict[int, list[str]] = defaultdict(list)
        for pid, lat, lon, city, region in con.execute(
            "SELECT practitioner_id, lat, lon, city, region FROM practice_locations ORDER BY id"
        ):
            places[pid].append((lat, lon))
            cities[pid].append(f"{city} {region}")
        verified = verified_until(con)
        docs = []
        for pid, name, headline, approach, since in con.execute(
            "SELECT id, display_name, headline, approach, practicing_since FROM practitioners ORDER BY id"
        ):
            text = "\n".join([name, headline or "", approach or "", *names[pid], *cities[pid]]).lower()
            docs.append(
                Doc(pid, text, tuple(slugs[pid]), since or 9999, verified.get(pid, 0), tuple(places[pid]))
            )
        return docs
    finally:
        con.close()


def verified_until(con: sqlite3.Connection) -> dict[int, int]:
    """pid -> the last day (ordinal) one of its verified credentials keeps its badge, by the
    credentials domain's own rule (standing.badge_until: the expiry in force, the re-check's grace)."""
    try:
        rows = con.execute(
            "SELECT practitioner_id, status, expires_on, source_expires_on, checked_at FROM credentials"
            " WHERE status = 'verified'"
        ).fetchall()
    except sqlite3.Error:
        return {}
    until: dict[int, int] = {}
    for pid, status, expires_on, source_expires_on, checked_at in rows:
        row = SimpleNamespace(
            status=status,
            expires_on=_day(expires_on),
            source_expires_on=_day(source_expires_on),
            checked_at=datetime.fromisoformat(checked_at) if checked_at else None,
        )
        last = standing.badge_until(row)
        day = last.toordinal() if last else 0
        until[pid] = max(until.get(pid, 0), day)
    return until


def _day(value: str | None) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def bbox(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lat_lo, lat_hi, lon_lo, lon_hi) holding every point within radius_km (wide at the poles side)."""
    dlat = radius_km / KM_PER_DEGREE
    widest = min(89.9, abs(lat) + dlat)
    dlon = min(180.0, dlat / math.cos(math.radians(widest)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def nearest_km(lat: float, lon: float, places) -> float:
    return min((haversine_km(lat, lon, plat, plon) for plat, plon in places), default=math.inf)


def today_ordinal() -> int:
    return date.today().toordinal()
