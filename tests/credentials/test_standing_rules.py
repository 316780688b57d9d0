"""The standing rules' corners, on plain rows (the shape the search cards pass): a claim never checked,
a verified credential with no end at all, the owner's label on a given day, and the two ways a stored
lapse reads."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from directory.credentials import standing

CHECKED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def row(status="verified", checked=CHECKED, expires=None, method="document"):
    return SimpleNamespace(
        status=status, checked_at=checked, expires_on=expires, source_expires_on=None, method=method
    )


def test_a_claim_never_checked_has_no_due_date_and_no_grace():
    never = row(status="pending", checked=None, method=None)
    assert standing.next_check_due(never) is None
    assert standing.grace_ends(never) is None
    assert standing.badge_until(never) is None


def test_a_verified_credential_with_no_check_and_no_expiry_has_no_end():
    assert standing.badge_until(row(checked=None)) == date.max
    assert standing.is_live(row(checked=None), date(2099, 1, 1))


def test_the_grace_is_thirty_days_after_the_due_date():
    assert standing.grace_ends(row()) == date(2026, 3, 31)
    assert standing.grace_ends(row(expires=date(2025, 6, 1))) == date(2025, 7, 1)


@pytest.mark.parametrize(
    ("today", "public", "label"),
    [
        (date(2026, 2, 28), False, "verified"),
        (date(2026, 3, 1), False, "re-check due"),
        (date(2026, 4, 1), False, "lapsed: not re-checked"),
        (date(2026, 4, 1), True, "lapsed: not re-checked"),
    ],
)
def test_the_owners_label_is_judged_on_the_day_asked(today, public, label):
    assert standing.label(row(), today, public=public) == label


@pytest.mark.parametrize(
    ("method", "label"),
    [("grace", "lapsed: not re-checked"), ("roster", "lapsed"), ("document", "lapsed")],
)
def test_a_stored_lapse_says_whether_it_was_the_missed_re_check(method, label):
    assert standing.label(row(status="lapsed", method=method), date(2025, 4, 1)) == label
