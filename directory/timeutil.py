"""Time in one place: timezone-aware UTC, and a column type that keeps it aware on SQLite too."""

from datetime import UTC, date, datetime

import sqlalchemy as sa


def _system_now() -> datetime:
    return datetime.now(UTC)


# Where every module's idea of "now" comes from; the tests' `clock` fixture moves it. Replaced here,
# so that each `from directory.timeutil import now_utc` (column defaults included) follows it.
source = _system_now


def now_utc() -> datetime:
    return source()


def today_utc() -> date:
    return now_utc().date()


class UTCDateTime(sa.types.TypeDecorator):
    """Stores UTC, always returns an aware datetime (SQLite drops the offset on the way back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# How pages, mails and messages write dates: one set, so a day reads the same on every screen. Each takes
# None too (nothing to show) and answers NONE then.
NONE = "—"


def day(value: date | datetime | None) -> str:
    """A day as 2026-03-01; a timestamp gives its UTC day."""
    if value is None:
        return NONE
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


def long_day(value: date | datetime | None) -> str:
    """A day in words for people, as March 1, 2026 (a timestamp gives its UTC day)."""
    if value is None:
        return NONE
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return f"{value:%B} {value.day}, {value.year}"


def stamp(value: datetime | None, seconds: bool = False) -> str:
    """A moment as 2026-03-01 09:30 UTC (with :05 seconds where the order of events matters)."""
    if value is None:
        return NONE
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
