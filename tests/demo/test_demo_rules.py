"""Demo data follows the domain's own rules rather than copies of them: numbers in each issuer's
canonical form, statuses that read on the day as they are stored (the chains: tests/test_cli.py)."""

import pytest
import sqlalchemy as sa

from directory.credentials import numbers, standing
from directory.credentials.models import Credential
from directory.extensions import db


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "80", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return list(db.session.scalars(sa.select(Credential).order_by(Credential.id)))


def test_every_demo_number_is_in_its_issuers_canonical_form(demo):
    assert demo
    wrong = [
        (c.number, c.number_key)
        for c in demo
        if c.number_key != numbers.canonical(c.number, numbers.NumberFormat.of(c.issuer))
    ]
    assert wrong == []


def test_no_demo_credential_reads_otherwise_than_it_is_stored(demo):
    # An expiry already passed is written down as expired, so nothing waits for the daily job.
    assert [c.id for c in demo if standing.effective_status(c) != c.status] == []
    assert {"verified", "expired"} <= {c.status for c in demo}
