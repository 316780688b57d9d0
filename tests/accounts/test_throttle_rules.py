"""The throttle's arithmetic, worked out by hand on the clock fixture: how long a password try waits
after N failures, when the code check closes and opens again, who is mailed and when, and what a
correct code forgives. (test_throttle.py shows the same rules through the sign-in routes.)"""

import logging

import pytest
import sqlalchemy as sa

from directory.accounts import throttle
from directory.accounts.models import AuthFailure, MailMessage
from directory.extensions import db
from directory.rules import RuleError

ACCOUNT = throttle.account_key("casey@example.org")
ELSEWHERE = throttle.account_key("robin@example.org")


def fail(kind="password", account=ACCOUNT, address="198.51.100.7", device=None, times=1, alert_to=None):
    for _ in range(times):
        throttle.record_failure(throttle.Attempt(kind, account, address, device), alert_to=alert_to)


def password_try(account=ACCOUNT, address="198.51.100.7", device=None) -> int:
    return throttle.password_wait(throttle.Attempt("password", account, address, device))


def test_the_account_key_is_the_sha256_of_the_normalised_address():
    assert throttle.account_key("  Casey@Example.ORG ") == ACCOUNT
    assert ACCOUNT == "52a24bdb24cd394cba3f9b0f173986baf95f3699fbc43e99c1dd1ff97da5670d"
    assert ACCOUNT != ELSEWHERE


@pytest.mark.parametrize(
    ("failures", "free", "wait"),
    [
        (0, 3, 0),
        (2, 3, 0),
        (3, 3, 1),
        (4, 3, 2),
        (5, 3, 4),
        (12, 3, 512),
        (13, 3, 900),
        (40, 3, 900),
        (5, 5, 1),
    ],
)
def test_the_wait_doubles_after_the_free_failures_up_to_fifteen_minutes(app, failures, free, wait):
    assert throttle.delay_for(failures, free) == wait


@pytest.mark.parametrize(("failures", "wait"), [(2, 0), (3, 1), (4, 2), (6, 8)])
def test_a_password_try_waits_after_the_pairs_free_three(app, clock, failures, wait):
    fail(times=failures)
    assert password_try() == wait
    clock.advance(seconds=wait)
    assert password_try() == 0


def test_failures_leave_the_count_after_the_fifteen_minute_window(app, clock):
    fail(times=6)
    clock.advance(minutes=14, seconds=59)
    assert throttle.delay_for(6, 3) == 8 and password_try() == 0  # the wait has passed, the count not
    fail()
    assert password_try() == 16
    clock.advance(minutes=15, seconds=1)
    fail()
    assert password_try() == 0  # seven failures gone, the new one alone is free


def test_the_address_allows_twenty_failures_over_many_accounts(app):
    for n in range(20):
        fail(account=throttle.account_key(f"person{n}@example.org"))
    assert password_try(account=throttle.account_key("new@example.org")) == 1
    assert password_try(address="203.0.113.1") == 0


def test_the_account_allows_twenty_failures_from_anywhere(app):
    for n in range(20):
        fail(address=f"203.0.113.{n}")
    assert password_try(address="192.0.2.1") == 1
    assert password_try(account=ELSEWHERE, address="192.0.2.1") == 0


def test_a_known_browser_counts_only_its_own_failures_and_allows_five(app):
    fail(times=20, address="203.0.113.9")  # an attacker's, from elsewhere
    assert password_try(device="nonce-1") == 0
    fail(device="nonce-1", times=5)
    assert password_try(device="nonce-1") == 1
    assert password_try(device="nonce-2") == 0
    # Failures through a known browser do not count against the account from elsewhere.
    assert password_try(address="192.0.2.1") == 1  # the attacker's twenty do


@pytest.mark.parametrize(
    ("device", "after", "wait"),
    [
        (None, 899, 16),  # seven in the window: 2 ** (7 - 3)
        (None, 900, 0),  # the six are out of it from this very instant
        ("nonce-1", 899, 4),  # a known browser: 2 ** (7 - 5)
        ("nonce-1", 900, 0),
    ],
)
def test_a_password_failure_at_the_windows_very_start_no_longer_counts(app, frozen, device, after, wait):
    fail(device=device, times=6)
    frozen.advance(seconds=after)
    fail(device=device)
    assert password_try(device=device) == wait


def test_the_address_is_kept_to_forty_five_characters(app):
    fail(address="a" * 60)
    assert db.session.scalar(sa.select(AuthFailure.address)) == "a" * 45


def test_the_code_check_closes_at_five_until_the_oldest_leaves_the_window(app, clock):
    for _ in range(4):
        fail("code")
        clock.advance(minutes=1)
    assert throttle.code_wait(ACCOUNT) == 0
    fail("code")
    assert throttle.code_wait(ACCOUNT) == 15 * 60 - 4 * 60
    assert throttle.code_wait(ELSEWHERE) == 0

    clock.advance(minutes=10)
    assert throttle.code_wait(ACCOUNT) == 60
    clock.advance(seconds=60)
    assert throttle.code_wait(ACCOUNT) == 0  # the oldest has left: four in the window, open again
    fail("code")
    assert throttle.code_wait(ACCOUNT) == 60


def test_the_wait_counts_from_the_fifth_newest_wrong_code(app, frozen):
    for _ in range(7):
        fail("code")
        frozen.advance(minutes=1)
    # Seven in the window: the check opens when the fifth newest (two minutes after the first) leaves.
    assert throttle.code_wait(ACCOUNT) == 15 * 60 - 5 * 60


@pytest.mark.parametrize(("after", "wait"), [(899, 1), (899.5, 1), (900, 0)])
def test_the_code_check_opens_the_instant_the_oldest_leaves(app, frozen, after, wait):
    fail("code", times=5)
    frozen.advance(seconds=after)
    assert throttle.code_wait(ACCOUNT) == wait


def test_a_wrong_code_at_the_windows_very_start_no_longer_counts_toward_the_mail(app, frozen):
    fail("code", alert_to="admin@example.org")
    frozen.advance(minutes=15)
    fail("code", times=4, alert_to="admin@example.org")
    assert mails() == []
    fail("code", alert_to="admin@example.org")
    assert len(mails()) == 1


def test_a_throttled_password_try_is_refused_and_logged(app, caplog):
    fail(times=4)
    caplog.set_level(logging.INFO, logger="directory.security")
    attempt = throttle.Attempt("password", ACCOUNT, "198.51.100.7")

    with pytest.raises(RuleError) as refused:
        throttle.refuse_password_if_throttled(attempt)

    assert (refused.value.status, refused.value.message, refused.value.retry_after) == (
        429,
        throttle.TOO_MANY,
        2,
    )
    (record,) = [r for r in caplog.records if r.getMessage() == "sign_in.throttled"]
    assert (record.levelno, record.event, record.retry_after) == (logging.WARNING, "sign_in.throttled", 2)
    throttle.refuse_password_if_throttled(throttle.Attempt("password", ELSEWHERE, "192.0.2.1"))


@pytest.mark.parametrize(
    ("environ", "address"),
    [(None, "-"), ({"REMOTE_ADDR": ""}, "-"), ({"REMOTE_ADDR": "192.0.2.4"}, "192.0.2.4")],
)
def test_the_client_address_is_a_dash_when_there_is_none(app, environ, address):
    if environ is None:
        assert throttle.client_address() == address
        return
    with app.test_request_context(environ_base=environ):
        assert throttle.client_address() == address


def test_password_failures_never_close_the_code_check(app):
    fail("password", times=10)
    assert throttle.code_wait(ACCOUNT) == 0


def test_a_refused_code_names_the_wait_and_logs_it(app, caplog):
    fail("code", times=5)
    caplog.set_level(logging.INFO, logger="directory.security")

    with pytest.raises(RuleError) as refused:
        throttle.refuse_code_if_throttled(ACCOUNT, user_id=7)

    wait = throttle.code_wait(ACCOUNT)
    assert refused.value.status == 429 and refused.value.message == throttle.TOO_MANY_CODES
    assert refused.value.retry_after in (wait, wait + 1)
    (record,) = [r for r in caplog.records if r.getMessage() == "mfa.throttled"]
    assert (record.levelno, record.user_id) == (logging.WARNING, 7)
    assert record.retry_after == refused.value.retry_after
    throttle.refuse_code_if_throttled(ELSEWHERE)  # another account's check stays open


def mails() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(MailMessage.recipient, MailMessage.subject, MailMessage.body)))


def test_the_admin_is_mailed_once_when_the_check_closes(app, clock, caplog):
    caplog.set_level(logging.INFO, logger="directory.security")
    fail("code", times=4, alert_to="admin@example.org")
    fail("code", account=ELSEWHERE, alert_to="other@example.org")
    fail("password", times=3, alert_to="admin@example.org")
    assert mails() == []

    fail("code", alert_to="admin@example.org")
    ((to, subject, body),) = mails()
    assert (to, subject) == ("admin@example.org", "Wrong authenticator codes on your account")
    assert body.startswith(
        "Someone entered 5 wrong authenticator codes for your account in the last 15 minutes, "
    )
    assert "change it now" in body
    (closed,) = [r for r in caplog.records if r.getMessage() == "mfa.code_check_closed"]
    assert (closed.levelno, closed.failures) == (logging.WARNING, 5)

    fail("code", times=3, alert_to="admin@example.org")
    assert len(mails()) == 1


def test_old_wrong_codes_do_not_count_toward_the_mail(app, clock):
    fail("code", times=4, alert_to="admin@example.org")
    clock.advance(minutes=15, seconds=1)
    fail("code", alert_to="admin@example.org")
    assert mails() == []
    fail("code", times=4, alert_to="admin@example.org")
    assert len(mails()) == 1


def test_no_one_to_mail_no_mail(app):
    fail("code", times=5)
    assert mails() == [] and throttle.code_wait(ACCOUNT) > 0


def test_a_correct_code_forgives_only_that_accounts_wrong_codes(app):
    fail("code", times=5)
    fail("code", account=ELSEWHERE, times=5)
    fail("password", times=4)

    throttle.clear_codes(ACCOUNT)

    assert throttle.code_wait(ACCOUNT) == 0 and throttle.code_wait(ELSEWHERE) > 0
    assert password_try() == 2
