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
