"""The expiry and re-check rules are written twice by necessity, for a credential in hand (standing's
functions) and inside a query (their `*_sql` twins, which the expiry job and the admins' re-check
queue run). Each pair must give one answer, on the expiry day itself and the days around it."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from directory.catalog.models import Issuer
from directory.credentials import standing
from directory.credentials.models import Credential
from directory.extensions import db

TODAY = date(2026, 6, 15)
# (claimed expiry, source's expiry, last checked): each a day on or around TODAY's edges.
CASES = [
    (None, None, TODAY - timedelta(days=10)),
    (TODAY, None, TODAY - timedelta(days=10)),  # expires today: still verified
    (TODAY - timedelta(days=1), None, TODAY - timedelta(days=10)),  # expired yesterday
    (TODAY + timedelta(days=1), None, TODAY - timedelta(days=10)),
    (TODAY - timedelta(days=5), TODAY + timedelta(days=5), TODAY - timedelta(days=10)),  # the source's wins
    (TODAY + timedelta(days=5), TODAY - timedelta(days=1), TODAY - timedelta(days=10)),  # … either way
    (None, TODAY, TODAY - timedelta(days=10)),
    (None, None, TODAY - timedelta(days=365 + 30)),  # due 30 days ago: the last day of the grace
    (None, None, TODAY - timedelta(days=365 + 31)),  # one day past the grace
    (None, None, TODAY - timedelta(days=365)),  # due today
    (None, None, TODAY - timedelta(days=364)),
    (TODAY - timedelta(days=20), None, TODAY - timedelta(days=400)),
    (None, None, None),  # never checked
    # Checked at the very last instant of a day (a check's time counts by its day, to the microsecond):
    (None, None, datetime.combine(TODAY - timedelta(days=365), time.max, tzinfo=UTC)),  # due today
    (None, None, datetime.combine(TODAY - timedelta(days=364), time.min, tzinfo=UTC)),  # due tomorrow
]
DAYS = [TODAY + timedelta(days=d) for d in (-31, -30, -1, 0, 1, 30, 31)]


@pytest.fixture
def credentials(factory):
    practitioner = factory.practitioner()
    issuer = db.session.scalar(sa.select(Issuer).order_by(Issuer.id).limit(1))
    made = []
    for n, (claimed, source, checked) in enumerate(CASES):
        at = (
            checked
            if isinstance(checked, datetime) or checked is None
            else datetime.combine(checked, time(12), tzinfo=UTC)
        )
        made.append(
            Credential(
                practitioner_id=practitioner.id,
                issuer_id=issuer.id,
                kind="license",
                title="Licensed Massage Therapist",
                number=f"RULE-{n}",
                number_key=f"RULE-{n}",
                issued_on=date(2015, 1, 1),
                expires_on=claimed,
                source_expires_on=source,
                status="verified",
                method="document",
                verified_at=at,
                checked_at=at,
            )
        )
    db.session.add_all(made)
    db.session.commit()
    return made


def _ids(where) -> set[int]:
    return set(db.session.scalars(sa.select(Credential.id).where(where)))


def test_the_expiry_in_force_is_the_same_in_a_query(credentials):
    found = dict(
        db.session.execute(sa.select(Credential.id, standing.ends_on_sql(Credential))).tuples().all()
    )
    assert found == {c.id: standing.ends_on(c) for c in credentials}
    assert {c.id: c.ends_on for c in credentials} == found


@pytest.mark.parametrize("today", DAYS)
def test_the_query_finds_exactly_the_credentials_no_longer_live(credentials, today):
    by_rule = {c.id for c in credentials if not standing.is_live(c, today)}
    assert _ids(standing.no_longer_live_sql(Credential, today)) == by_rule


@pytest.mark.parametrize("day", DAYS)
def test_the_query_finds_exactly_the_credentials_due_for_a_re_check(credentials, day):
    by_rule = {c.id for c in credentials if (due := standing.next_check_due(c)) is not None and due <= day}
    assert _ids(standing.due_by_sql(Credential, day)) == by_rule


def test_the_cases_cover_both_answers_on_the_day():
    # Without both answers among the cases, the comparisons above could not tell a wrong query apart.
    rows = [
        type("Row", (), {"status": "verified", "expires_on": e, "source_expires_on": s, "checked_at": c})
        for e, s, c in CASES
    ]
    assert {standing.effective_status(r, TODAY) for r in rows} == {"verified", "expired", "lapsed"}


@pytest.mark.parametrize(
    ("last_day", "over"),
    [
        (None, False),  # nothing dated is never over
        (TODAY + timedelta(days=1), False),
        (TODAY, False),  # the last day itself still holds
        (TODAY - timedelta(days=1), True),
        (date.min, True),
    ],
)
def test_a_dated_thing_holds_through_its_last_day(last_day, over):
    assert standing.past(last_day, TODAY) is over
