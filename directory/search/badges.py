"""What a card shows about credentials and ratings, read from the database for the page (never
from the index, so a revocation shows at once). One plain query for the whole page: this runs on
every search, where building ORM objects for twenty practitioners would cost more than the search.
The rows are judged by the same rules as everywhere else (credentials/standing.py)."""

from datetime import date
from types import SimpleNamespace
from typing import TypedDict

import sqlalchemy as sa

from directory.credentials import standing
from directory.extensions import db
from directory.reviews.service import average
from directory.timeutil import UTCDateTime, today_utc

_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
# One statement for the page: each practitioner's visible reviews (count and sum) and credentials,
# a row per credential (one row with none). A round trip to the database costs more than the rows.
_LIVE = (
    sa.text(
        "SELECT p.id AS practitioner_id, r.n, r.total, c.status, c.method, c.expires_on, c.source_expires_on, "
        "c.checked_at, c.title, i.name FROM practitioners p "
        "LEFT JOIN (SELECT practitioner_id, count(*) AS n, sum(rating) AS total FROM reviews "
        "WHERE practitioner_id IN :ids AND hidden = :hidden GROUP BY practitioner_id) r ON r.practitioner_id = p.id "
        "LEFT JOIN credentials c ON c.practitioner_id = p.id AND c.status != 'rejected' "
        "LEFT JOIN issuers i ON i.id = c.issuer_id "
        "WHERE p.id IN :ids ORDER BY p.id, c.id"
    )
    .bindparams(_IDS, hidden=False)
    .columns(
        sa.column("practitioner_id", sa.Integer),
        sa.column("n", sa.Integer),
        sa.column("total", sa.Integer),
        sa.column("status", sa.String),
        sa.column("method", sa.String),
        sa.column("expires_on", sa.Date),
        sa.column("source_expires_on", sa.Date),
        sa.column("checked_at", UTCDateTime),
        sa.column("title", sa.String),
        sa.column("name", sa.String),
    )
)


class Badge(TypedDict):
    """One credential as a card shows it."""

    issuer: str
    title: str
    status: str  # the public status (standing.public_status)
    label: str  # that status in words (standing.label)


class Rating(TypedDict):
    average: float | None  # None without reviews
    count: int


class Badges(TypedDict):
    verified: bool  # any credential reads verified today
    credentials: list[Badge]
    rating: Rating


def _day(value: date | str | None) -> date | None:
    # SQLite hands a plain SELECT's dates back as text unless told the column's type.
    return date.fromisoformat(value) if isinstance(value, str) else value


def for_practitioners(ids: list[int]) -> dict[int, Badges]:
    """Badges and rating of each practitioner asked about (none for an id that is gone)."""
    if not ids:
        return {}
    out: dict[int, Badges] = {}
    today = today_utc()
    for row in db.session.execute(_LIVE, {"ids": ids}):
        badges = out.get(row.practitioner_id)
        if badges is None:
            count = row.n or 0
            badges = out[row.practitioner_id] = {
                "verified": False,
                "credentials": [],
                "rating": {"average": average(row.total or 0, count), "count": count},
            }
        if row.status is None:  # no credential: the row of the practitioner alone
            continue
        c = SimpleNamespace(
            status=row.status,
            method=row.method,
            expires_on=_day(row.expires_on),
            source_expires_on=_day(row.source_expires_on),
            checked_at=row.checked_at,
        )
        status = standing.public_status(c, today)
        badges["credentials"].append(
            {"issuer": row.name, "title": row.title, "status": status, "label": standing.label(c, today)}
        )
        badges["verified"] = badges["verified"] or status == "verified"
    return out
