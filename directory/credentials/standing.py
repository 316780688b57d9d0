"""What a credential's status means on a given day: the one place for expiry, re-check and badge rules.

Statuses (written by lifecycle.transition() alone):

    pending    claimed, waiting for an admin or a roster
    contested  claimed while another account claims or holds the same issuer and number: an admin decides
    verified   the source confirmed it (the badge)
    recheck    sent back because its facts changed (a new legal name, a roster that disagrees): no badge
    lapsed     the roster no longer lists it as active, or its re-check never came: no badge
    rejected, revoked, expired

Derived on read, whatever any job has written yet: a verified credential past the expiry in force reads
`expired`; one whose re-check is due keeps its badge ("re-check due") for RECHECK_GRACE past
`next_check_due`, then reads `lapsed` ("lapsed: not re-checked").

Every function takes anything with the credential's attributes (`status`, `expires_on`,
`source_expires_on`, `checked_at`, `method`), so the search cards' plain rows use the same rules. The
`*_sql` functions say the same in a query, given the model (or table) the columns come from; tests hold
each pair to one answer.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from directory.timeutil import today_utc

STATUSES = ("pending", "contested", "verified", "recheck", "lapsed", "rejected", "revoked", "expired")
UNDECIDED = ("pending", "contested")
# The account whose claim is in one of these holds the number (unique per issuer and number).
HELD = ("verified", "recheck", "lapsed")
# Claims that count when someone else claims the same number: they make the newcomer contested.
ACTIVE = UNDECIDED + HELD
CHECK_EVERY = timedelta(days=365)
RECHECK_GRACE = timedelta(days=30)


class Dated(Protocol):
    """What these rules read of a credential: a model row, or a search card's plain row."""

    @property
    def status(self) -> str: ...
    @property
    def method(self) -> str | None: ...
    @property
    def checked_at(self) -> datetime | None: ...
    @property
    def expires_on(self) -> date | None: ...
    @property
    def source_expires_on(self) -> date | None: ...


# The `*_sql` functions' `columns`: the Credential model, or its table's columns (bulk statements).
Columns = Any

LABELS = {
    "pending": "pending",
    "contested": "contested",
    "verified": "verified",
    "recheck": "sent back for a re-check",
    "rejected": "rejected",
    "revoked": "revoked",
    "expired": "expired",
}


def ends_on(c: Dated) -> date | None:
    """The expiry in force: what the source showed, else what the claimant said."""
    return c.source_expires_on or c.expires_on


def ends_on_sql(columns: Columns) -> sa.ColumnElement[date]:
    """ends_on() in a query."""
    return sa.func.coalesce(columns.source_expires_on, columns.expires_on)


def past(last_day: date | None, today: date) -> bool:
    """A dated thing holds through its last day and is over from the day after (None: never over)."""
    return last_day is not None and last_day < today


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def next_check_due(c: Dated) -> date | None:
    """When the source should next confirm it: the expiry, or a year after the last confirmation."""
    if c.checked_at is None:
        return None
    yearly = _day(c.checked_at) + CHECK_EVERY
    end = ends_on(c)
    return min(yearly, end) if end else yearly


def due_by_sql(columns: Columns, day: date) -> sa.ColumnElement[bool]:
    """next_check_due(c) <= day in a query: a year after the last check, or the expiry in force."""
    cutoff = datetime.combine(day - CHECK_EVERY, time.max, tzinfo=UTC)
    return sa.or_(columns.checked_at <= cutoff, ends_on_sql(columns) <= day)


def grace_ends(c: Dated) -> date | None:
    """The last day a verified credential keeps its badge without a re-check."""
    due = next_check_due(c)
    return due + RECHECK_GRACE if due else None


def effective_status(c: Dated, today: date | None = None) -> str:
    today = today or today_utc()
    if c.status == "verified":
        if past(ends_on(c), today):
            return "expired"
        if past(grace_ends(c), today):
            return "lapsed"
    return c.status


def no_longer_live_sql(columns: Columns, today: date) -> sa.ColumnElement[bool]:
    """For a verified credential, effective_status(c, today) != "verified" in a query: past the expiry
    in force, or past the grace after its re-check fell due."""
    return sa.or_(
        ends_on_sql(columns) < today, due_by_sql(columns, today - RECHECK_GRACE - timedelta(days=1))
    )


def is_live(c: Dated, today: date | None = None) -> bool:
    """True while the badge shows."""
    return effective_status(c, today) == "verified"


def recheck_due(c: Dated, today: date | None = None) -> bool:
    """A live badge whose re-check is due: it still shows, marked "re-check due"."""
    today = today or today_utc()
    due = next_check_due(c)
    return is_live(c, today) and due is not None and due <= today


def badge_until(c: Dated) -> date | None:
    """The last day the badge can show without anything new happening (None: not verified)."""
    if c.status != "verified":
        return None
    days = [d for d in (ends_on(c), grace_ends(c)) if d]
    return min(days) if days else date.max


def public_status(c: Dated, today: date | None = None) -> str:
    """What the public reads: a contest is an admin's business, so a contested claim reads pending."""
    status = effective_status(c, today)
    return "pending" if status == "contested" else status


def label(c: Dated, today: date | None = None, public: bool = True) -> str:
    """The words people read for the state of a credential."""
    status = public_status(c, today) if public else effective_status(c, today)
    if status == "verified" and recheck_due(c, today):
        return "re-check due"
    if status == "lapsed":
        return "lapsed: not re-checked" if c.status == "verified" or c.method == "grace" else "lapsed"
    return LABELS[status]
