"""What a card shows about credentials and ratings, read from the database for the page (never
from the index, so a revocation shows at once). Two plain queries for the whole page: this runs on
every search, where building ORM objects for twenty practitioners would cost more than the search.
The rows are judged by the same rules as everywhere else (credentials/standing.py)."""

from datetime import date
from types import SimpleNamespace
from typing import TypedDict

import sqlalchemy as sa

from directory.credentials import standing
from directory.extensions import db
from directory.reviews.service import card_ratings
from directory.timeutil import UTCDateTime, today_utc

_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_CREDENTIALS = (
    sa.text(
        "SELECT c.practitioner_id, c.status, c.method, c.expires_on, c.source_expires_on, c.checked_at, "
        "c.title, i.name FROM credentials c JOIN issuers i ON i.id = c.issuer_id "
        "WHERE c.practitioner_id IN :ids AND c.status != 'rejected' ORDER BY c.id"
    )
    .bindparams(_IDS)
    .columns(
        sa.column("practitioner_id", sa.Integer),
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
    if not ids:
        return {}
    summaries = card_ratings(ids)  # one for every id asked about, reviewed or not
    out: dict[int, Badges] = {
        pid: {
            "verified": False,
            "credentials": [],
            "rating": {"average": summaries[pid][0], "count": summaries[pid][1]},
        }
        for pid in ids
    }
    today = today_utc()
    for row in db.session.execute(_CREDENTIALS, {"ids": ids}):
        c = SimpleNamespace(
            status=row.status,
            method=row.method,
            expires_on=_day(row.expires_on),
            source_expires_on=_day(row.source_expires_on),
            checked_at=row.checked_at,
        )
        status = standing.public_status(c, today)
        out[row.practitioner_id]["credentials"].append(
            {"issuer": row.name, "title": row.title, "status": status, "label": standing.label(c, today)}
        )
        out[row.practitioner_id]["verified"] = out[row.practitioner_id]["verified"] or status == "verified"
    return out
