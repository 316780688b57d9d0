"""Turn an engine outcome into what people see: cards loaded from the database, in ranked order,
each with a highlighted snippet and the plain sentences that explain its place."""

import re

import numpy as np
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.search import badges
from directory.search.engine import Hit, Outcome, Query, haversine_km
from directory.search.node import node

SNIPPET_CHARS = 220


def _load(pids: list[int]) -> dict[int, Practitioner]:
    if not pids:
        return {}
    rows = db.session.scalars(
        sa.select(Practitioner)
        .where(Practitioner.id.in_(pids))
        .options(
            selectinload(Practitioner.locations),
            selectinload(Practitioner.techniques),
            selectinload(Practitioner.conditions),
        )
    ).all()
    return {p.id: p for p in rows}


def cards(outcome: Outcome, query: Query, place_label: str | None) -> list[dict]:
    rows = _load([h.pid for h in outcome.hits])
    live = badges.for_practitioners(list(rows.values()))
    out = []
    for hit in outcome.hits:
        p = rows.get(hit.pid)
        if p is None:  # deleted since the index saw it; the outbox will catch up
            continue
        b = live[p.id]
        place = _nearest_place(p, query)
        out.append(
            {
                "id": p.id,
                "display_name": p.display_name,
                "headline": p.headline,
                "city": place.city if place else None,
                "region": place.region if place else None,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "distance_km": round(hit.distance_km, 2) if hit.distance_km is not None else None,
                "rating": b["rating"]["average"],
                "review_count": b["rating"]["count"],
                "verified": b["verified"],
                "credentials": b["credentials"],
                "techniques": [t.slug for t in p.techniques],
                "snippet": snippet(p, hit),
                "why": why(hit, outcome, place_label, b),
            }
        )
    return out


def _nearest_place(p: Practitioner, query: Query):
    if not p.locations:
        return None
    if not query.located:
        return p.locations[0]
    lats = np.array([loc.lat for loc in p.locations])
    lons = np.array([loc.lon for loc in p.locations])
    return p.locations[int(np.argmin(haversine_km(query.lat, query.lon, lats, lons)))]


def snippet(p: Practitioner, hit: Hit) -> str:
    """The approach (or headline) around the first matched word, escaped, matches in <mark>."""
    text = p.approach or p.headline or ""
    stems = {s for c in hit.matched for s in c.stems}
    spans = []
    if stems and text:
        for token in node().analyzer(text, chars=True):
            if token.text in stems:
                spans.append((token.startchar, token.endchar))
    start = 0
    if spans and spans[0][0] > SNIPPET_CHARS // 3:
        start = text.rfind(" ", 0, spans[0][0] - SNIPPET_CHARS // 4) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        end = max(text.rfind(" ", start, end), spans[0][1] if spans else start)
    pieces, cursor = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces.append(str(escape(text[cursor:s])))
        pieces.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    pieces.append(str(escape(text[cursor:end])))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(pieces).strip() + suffix


def why(hit: Hit, outcome: Outcome, place_label: str | None, b: dict) -> list[str]:
    reasons = []
    if outcome.concepts:
        words = []
        for c in hit.matched:
            words.append(
                f"“{c.label}”"
                + (
                    " (and what it means: " + ", ".join(s.replace("-", " ") for s in c.slugs) + ")"
                    if c.slugs
                    else ""
                )
            )
        if outcome.relaxed:
            reasons.append(
                f"Matches {len(hit.matched)} of {len(outcome.concepts)} of your words: {', '.join(words)}."
            )
        else:
            reasons.append(f"Matches {', '.join(words)}.")
    if hit.distance_km is not None:
        reasons.append(f"{hit.distance_km:.1f} km from {place_label or 'the place you searched'}.")
    if b["verified"]:
        names = "; ".join(
            f"{c['title']} ({c['issuer']})" for c in b["credentials"] if c["status"] == "verified"
        )
        reasons.append(f"Verified credential: {names}." if names else "Has a verified credential.")
    if b["rating"]["count"]:
        reasons.append(f"Rated {b['rating']['average']:.1f} from {b['rating']['count']} reviews.")
    else:
        reasons.append("No reviews yet.")
    return reasons


def suggestion(search_node, q: str | None, outcome: Outcome) -> str | None:
    """A corrected query when some words are unknown to the index (and have no synonym)."""
    if not q or not outcome.unmatched:
        return None
    corrector = search_node.searcher().corrector("words")
    corrected = q
    changed = False
    for concept in outcome.unmatched:
        if concept.slugs:
            continue
        for word in re.findall(r"[^\W_]+", concept.label):
            found = corrector.suggest(word.lower(), limit=1, maxdist=2)
            if found and found[0] != word.lower():
                corrected = re.sub(rf"\b{re.escape(word)}\b", found[0], corrected, count=1)
                changed = True
    return corrected if changed else None
