"""One set of date formats, the same on every page: a day, a day in words, a moment in UTC."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask import render_template_string

from directory.timeutil import day, long_day, stamp

EVENING_IN_NEW_YORK = datetime(2026, 3, 1, 21, 30, 5, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 23, 59, tzinfo=UTC), "2026-03-01"),
        (EVENING_IN_NEW_YORK, "2026-03-02"),  # already the next day in UTC
        (None, "—"),
    ],
)
def test_a_day_is_written_as_its_iso_date_in_utc(value, shown):
    assert day(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (date(2026, 3, 1), "March 1, 2026"),  # no leading zero on the day
        (date(2026, 12, 25), "December 25, 2026"),
        (EVENING_IN_NEW_YORK, "March 2, 2026"),
        (None, "—"),
    ],
)
def test_a_day_in_words_names_the_month(value, shown):
    assert long_day(value) == shown


@pytest.mark.parametrize(
    ("value", "seconds", "shown"),
    [
        (datetime(2026, 3, 1, 9, 5, 7, tzinfo=UTC), False, "2026-03-01 09:05 UTC"),
        (datetime(2026, 3, 1, 9, 5, 7, tzinfo=UTC), True, "2026-03-01 09:05:07 UTC"),
        (EVENING_IN_NEW_YORK, False, "2026-03-02 02:30 UTC"),
        (None, False, "—"),
    ],
)
def test_a_moment_is_written_in_utc_and_says_so(value, seconds, shown):
    assert stamp(value, seconds=seconds) == shown


@pytest.mark.parametrize("bad", ["2026-03-01", 20260301, object()])
def test_anything_but_a_date_is_refused(bad):
    for format_ in (day, long_day, stamp):
        with pytest.raises((AttributeError, TypeError, ValueError)):
            format_(bad)


def test_every_template_has_the_formats_as_functions_and_filters(app):
    moment = datetime(2026, 3, 1, 9, 5, 7, tzinfo=UTC)
    with app.test_request_context():
        shown = render_template_string(
            "{{ day(m) }}|{{ m|day }}|{{ long_day(m) }}|{{ stamp(m) }}|{{ m|stamp(seconds=True) }}", m=moment
        )
    assert shown == "2026-03-01|2026-03-01|March 1, 2026|2026-03-01 09:05 UTC|2026-03-01 09:05:07 UTC"
