"""One way to write an audit event: transition(), the batch path and the bulk history that demo data
and the roster bench insert all put an event together in the same place, so their chains verify."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.load.roster import build
from directory.catalog.models import Issuer
from directory.credentials import lifecycle
from directory.credentials.lifecycle import Step, history_rows
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db

AT = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


def test_a_roster_benchs_bulk_credentials_leave_a_chain_that_verifies(app, runner):
    holdings = build(pending=4, verified=3, rng=random.Random(7))
    assert [h["status"] for h in holdings].count("verified") == 3
    events = db.session.scalar(sa.select(sa.func.count()).select_from(CredentialEvent))
    assert events == 4 + 3 * 2  # a submission each, and a verification for the verified
    result = runner.invoke(args=["directory", "audit-verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output


def test_a_bulk_history_hashes_each_event_as_transition_does(factory):
    practitioner = factory.practitioner()
    issuer = db.session.scalar(sa.select(Issuer).order_by(Issuer.id).limit(1))
    credential = Credential(
        practitioner_id=practitioner.id,
        issuer_id=issuer.id,
        kind="license",
        title="Licensed Massage Therapist",
        number="CHAIN-1",
        number_key="CHAIN-1",
        issued_on=date(2015, 1, 1),
    )
    made = [lifecycle.transition(credential, "submit", None)]
    made.append(lifecycle.transition(credential, "verify", None, facts=lifecycle.Facts("Pat Doe")))
    db.session.commit()
    steps = [Step(e.from_status, e.to_status, e.method, e.at, e.actor, e.actor_ref, e.reason) for e in made]
    rows = history_rows(credential.id, steps)
    assert [r["hash"] for r in rows] == [e.hash for e in made]
    assert [r["prev_hash"] for r in rows] == [e.prev_hash for e in made]


@pytest.mark.parametrize(
    "steps",
    [
        [Step(None, "verified", "document", AT)],  # no move leads from nothing to verified
        [Step("pending", "verified", "document", AT)],  # a history starts with its submission
        [Step(None, "pending", "submission", AT), Step("verified", "expired", "expiry", AT)],  # a gap
        [Step(None, "pending", "submission", AT), Step(None, "pending", "submission", AT)],  # twice
        [
            Step(None, "pending", "submission", AT),
            Step("pending", "rejected", "document", AT),
            Step("rejected", "verified", "document", AT + timedelta(seconds=1)),  # not a move
        ],
    ],
)
def test_a_bulk_history_that_no_sequence_of_moves_makes_is_refused(steps):
    with pytest.raises(ValueError, match="no move"):
        history_rows(1, steps)


def test_a_bulk_history_chains_each_event_to_the_one_before():
    steps = [
        Step(None, "pending", "submission", AT, "pat@example.org", "user:pat"),
        Step("pending", "verified", "document", AT + timedelta(days=1), "reviewer@example.org", "demo:r"),
        Step("verified", "expired", "expiry", AT + timedelta(days=400)),
    ]
    rows = history_rows(5, steps)
    assert rows[0]["prev_hash"] == "0" * 64
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    assert len({r["hash"] for r in rows}) == 3
