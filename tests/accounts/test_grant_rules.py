"""The grant rules at their edges, on the clock fixture: when a session or token stops working, when
use keeps it alive, what ending one ends, when an admin counts as freshly proved, and that a one-use
row is used once."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.accounts import grants
from directory.accounts.models import ApiToken, PasswordReset, WebSession
from directory.extensions import db
from directory.timeutil import now_utc
from tests.factories import live_grants

# kind → (absolute life, idle limit) with the default settings.
LIMITS = {
    WebSession: (timedelta(hours=12), timedelta(minutes=60)),
    ApiToken: (timedelta(days=30), timedelta(days=7)),
}
KINDS = pytest.mark.parametrize("kind", LIMITS, ids=lambda k: k.__name__)


def done():
    """What the service that owns the action does once its helpers have written."""
    db.session.commit()
    db.session.expire_all()


def just_now(moment) -> bool:
    """Written a moment ago by the clock the test moved (it runs on while the test does)."""
    return timedelta(0) <= now_utc() - moment < timedelta(seconds=2)


def test_a_grant_is_kept_as_the_sha256_of_its_secret_with_the_address_it_was_given_to(app, factory):
    user = factory.user()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        token, row = grants.issue(WebSession, user)

    assert row.token_hash == grants.digest(token) != token and len(token) >= 43
    assert row.address == "203.0.113.9" and row.mfa_at is None
    assert grants.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@KINDS
def test_a_grant_ends_at_its_absolute_limit_however_busy(factory, frozen, kind):
    clock = frozen
    absolute, idle = LIMITS[kind]
    token, row = grants.issue(kind, factory.user())
    assert row.expires_at - row.created_at == absolute
    while clock.offset + idle / 2 < absolute:
        clock.advance(seconds=(idle / 2).total_seconds())
        assert grants.find(kind, token) is not None, clock.offset
    clock.advance(seconds=(absolute - clock.offset).total_seconds() - 1)
    assert grants.find(kind, token) is not None  # a second before the end

    clock.advance(seconds=1)
    assert grants.find(kind, token) is None


@KINDS
@pytest.mark.parametrize(("unused_for", "works"), [(-1, True), (0, False), (1, False)])
def test_a_grant_unused_for_its_idle_limit_ends(factory, frozen, kind, unused_for, works):
    clock = frozen
    _, idle = LIMITS[kind]
    token, _ = grants.issue(kind, factory.user())

    clock.advance(seconds=idle.total_seconds() + unused_for)
    assert (grants.find(kind, token) is not None) is works


@pytest.mark.parametrize(("after", "touched"), [(59, False), (60, True), (61, True)])
def test_use_is_written_down_at_most_once_a_minute(factory, frozen, after, touched):
    clock = frozen
    token, row = grants.issue(WebSession, factory.user())
    issued = row.last_seen_at

    clock.advance(seconds=after)
    found = grants.find(WebSession, token)
    db.session.expire_all()
    assert found is not None
    seen = db.session.get(WebSession, row.id).last_seen_at
    assert (seen == issued) is not touched
    assert just_now(seen) is touched


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 200])
def test_an_unknown_secret_finds_nothing(factory, token):
    grants.issue(ApiToken, factory.user())
    assert grants.find(ApiToken, token) is None


@KINDS
def test_ending_one_grant_leaves_the_others_and_keeps_its_first_end(factory, clock, kind):
    user = factory.user()
    first, row = grants.issue(kind, user)
    grants.issue(kind, user)
    grants.end(kind, first)
    done()
    ended_at = getattr(db.session.get(kind, row.id), kind.end_column)

    clock.advance(minutes=5)
    grants.end(kind, first)
    done()
    assert getattr(db.session.get(kind, row.id), kind.end_column) == ended_at
    assert grants.find(kind, first) is None and live_grants(kind, user) == 1


def test_ending_a_grant_row_ends_it_at_once(factory):
    token, row = grants.issue(WebSession, factory.user())
    grants.end_grant(row)
    done()
    assert grants.find(WebSession, token) is None


def test_ending_everything_counts_what_it_ended_of_that_user_only(factory):
    user, other = factory.user(), factory.user()
    for kind in (WebSession, ApiToken, ApiToken):
        grants.issue(kind, user)
    grants.issue(WebSession, other)
    ended_before, _ = grants.issue(WebSession, user)
    grants.end(WebSession, ended_before)
    done()

    assert grants.end_all(user) == 3
    done()
    assert grants.end_all(user) == 0
    done()
    assert live_grants(WebSession, user) == live_grants(ApiToken, user) == 0
    assert live_grants(WebSession, other) == 1


@pytest.mark.parametrize(
    ("password_minutes_ago", "code_minutes_ago", "fresh"),
    [
        (0, 0, True),
        (15, 15, True),  # the window's last moment
        (15, 0, True),
        (16, 0, False),  # the password proved too long ago
        (0, 16, False),  # the second factor proved too long ago
        (None, 0, False),  # no password proved on this grant
        (0, None, False),  # no second factor passed on this grant
    ],
)
def test_an_admin_is_fresh_for_fifteen_minutes_after_password_and_code(
    factory, clock, password_minutes_ago, code_minutes_ago, fresh
):
    _, row = grants.issue(WebSession, factory.user("admin"), mfa=True)
    now = now_utc()
    row.authenticated_at = (
        None if password_minutes_ago is None else now - timedelta(minutes=password_minutes_ago)
    )
    row.mfa_at = None if code_minutes_ago is None else now - timedelta(minutes=code_minutes_ago)

    assert grants.is_fresh(row, now) is fresh


def test_fresh_is_judged_on_the_clock_when_no_time_is_given(factory, clock):
    _, row = grants.issue(WebSession, factory.user("admin"), mfa=True)
    assert grants.is_fresh(row) and not grants.is_fresh(None)
    clock.advance(minutes=15, seconds=1)
    assert not grants.is_fresh(row)


def test_marking_a_grant_proves_only_what_was_proved(factory, clock):
    _, row = grants.issue(WebSession, factory.user("admin"))
    issued = row.authenticated_at
    assert row.mfa_at is None and not grants.is_fresh(row)

    clock.advance(minutes=20)
    grants.mark(row)
    assert row.mfa_at is None and row.authenticated_at == issued
    grants.mark(row, mfa=True)
    assert just_now(row.mfa_at) and row.authenticated_at == issued and not grants.is_fresh(row)
    grants.mark(row, authenticated=True)
    assert just_now(row.authenticated_at) and grants.is_fresh(row)


def test_a_one_use_row_is_used_once(factory, clock):
    user = factory.user()
    for token_hash in ("h", "other"):
        db.session.add(
            PasswordReset(user_id=user.id, token_hash=token_hash, expires_at=now_utc() + timedelta(hours=1))
        )
    db.session.commit()
    row = PasswordReset.token_hash == "h"

    clock.advance(days=3)  # the use is written down when it happens
    assert grants.claim(PasswordReset, row) is True
    db.session.commit()
    used = db.session.scalar(sa.select(PasswordReset.used_at).where(row))
    assert just_now(used)
    assert grants.claim(PasswordReset, row) is False
    assert db.session.scalar(sa.select(PasswordReset.used_at).where(row)) == used
    # Only the row asked for is used up.
    other = PasswordReset.token_hash == "other"
    assert db.session.scalar(sa.select(PasswordReset.used_at).where(other)) is None
    assert grants.claim(PasswordReset, other) is True
