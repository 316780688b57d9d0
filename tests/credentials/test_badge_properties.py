"""A property of the whole service: over random sequences of claims, renames, roster imports and decisions
by several accounts, no credential is ever verified for an account whose legal name the source did not
match, and the public lookup never names two holders."""

import io
from collections import Counter
from datetime import date

import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from werkzeug.datastructures import FileStorage

from directory.credentials import decisions, public, roster, service, standing
from directory.credentials.models import Credential
from directory.credentials.names import names_match
from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.rules import RuleError
from tests import dbreset
from tests.factories import PNG, make_admin

# Names that share words in every way that matters: the same person written otherwise, a shared
# surname, a shared given name, the same words in another order.
NAMES = ("Casey Lin", "Casey Ann Lin", "Lin, Casey", "Jordan Lin", "Casey Park", "Robin Roe")
NUMBERS = ("CMT-1001", "cmt 1001", "CMT-1002", "CMT-1003")
ACCOUNTS = 4


def claim(number: str) -> dict:
    return {
        "issuer": "camtc",
        "kind": "license",
        "title": "Massage Therapist",
        "number": number,
        "issued_on": date(2015, 6, 1),
        "expires_on": None,
        "techniques": [],
    }


class Badges(RuleBasedStateMachine):
    factory = None  # set by the test: the kit and the just-migrated snapshot to start each run from
    snapshot = None
    seen: Counter = Counter()  # what all runs did, so the test can tell it proved something

    def __init__(self):
        super().__init__()
        db.session.remove()
        dbreset.restore(db.engine, self.snapshot)
        self.people = [
            self.factory.practitioner(display_name=f"Person {n}", legal_name=NAMES[n])
            for n in range(ACCOUNTS)
        ]
        self.admin = make_admin("roster-admin@example.org")
        self.moves = Counter()

    @rule(who=st.integers(0, ACCOUNTS - 1), number=st.sampled_from(NUMBERS))
    def claim_a_number(self, who, number):
        try:
            service.submit(self.people[who].user, claim(number), FileStorage(io.BytesIO(PNG), "l.png"))
            self.moves["claim"] += 1
        except RuleError as exc:
            assert exc.status == 409, exc.message

    @rule(who=st.integers(0, ACCOUNTS - 1), name=st.sampled_from(NAMES))
    def rename(self, who, name):
        service.set_legal_name(self.people[who].user, name)
        self.moves["rename"] += 1

    @rule(
        rows=st.lists(
            st.tuples(
                st.sampled_from(NUMBERS[::2] + NUMBERS[3:]),
                st.sampled_from(NAMES),
                st.sampled_from(["active", "inactive"]),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda r: r[0].replace(" ", "-").upper(),
        )
    )
    def import_a_roster(self, rows):
        body = "number,name,status,expires_on\n" + "".join(f'{n},"{name}",{s},\n' for n, name, s in rows)
        named = {n.replace(" ", "").replace("-", "").upper(): name for n, name, _ in rows}
        before = {c.id: (c.status, c.checked_at) for c in db.session.scalars(sa.select(Credential))}
        result = roster.import_roster(self.admin, "camtc", body.encode())
        self.moves["roster"] += 1
        db.session.expire_all()
        for credential in db.session.scalars(sa.select(Credential).where(Credential.status == "verified")):
            if before.get(credential.id) != (credential.status, credential.checked_at):
                # Verified or confirmed by this roster: the row named this account's legal name.
                assert credential.method == "roster", credential.id
                assert names_match(named[credential.number_key], credential.verified_legal_name), (
                    result,
                    credential.id,
                )
                self.moves["by roster"] += 1

    @rule(pick=st.integers(0, 50), action=st.sampled_from(["verify", "verify", "reject", "revoke", "revoke"]))
    def decide(self, pick, action):
        # Mostly a credential the action can move: a contested one to settle, a holder to revoke.
        fits = {"verify": standing.ACTIVE, "reject": standing.UNDECIDED, "revoke": standing.HELD}[action]
        query = sa.select(Credential.id).order_by(Credential.id)
        ids = db.session.scalars(query.where(Credential.status.in_(fits))).all() if pick % 5 else []
        ids = ids or db.session.scalars(query).all()
        if not ids:
            return
        try:
            decisions.decide(self.admin, ids[pick % len(ids)], {"action": action, "reason": "Checked."})
            self.moves[action] += 1
        except RuleError as exc:
            assert exc.status == 409, exc.message
            self.moves["refused"] += 1

    def teardown(self):
        Badges.seen.update(self.moves)

    @invariant()
    def every_badge_names_the_current_legal_name(self):
        db.session.expire_all()
        for c, legal in db.session.execute(
            sa.select(Credential, Practitioner.legal_name).join(
                Practitioner, Practitioner.id == Credential.practitioner_id
            )
        ):
            if standing.is_live(c):
                assert c.verified_legal_name == legal, (c.id, c.verified_legal_name, legal)

    @invariant()
    def the_lookup_never_names_two_holders(self):
        holders = Counter(
            db.session.scalars(sa.select(Credential.number_key).where(Credential.status.in_(standing.HELD)))
        )
        assert all(n == 1 for n in holders.values()), holders
        for number in NUMBERS:
            key = number.replace(" ", "").replace("-", "").upper()
            try:
                found = public.lookup("camtc", number)
            except RuleError as exc:
                assert exc.status == 404 and holders[key] == 0
            else:
                assert holders[key] == 1 and found.status in standing.HELD


@pytest.mark.slow
def test_no_badge_the_source_did_not_confirm(factory, database, fast_files):
    Badges.factory, Badges.snapshot, Badges.seen = factory, database[1], Counter()
    run_state_machine_as_test(
        Badges,
        settings=settings(
            max_examples=30,
            stateful_step_count=40,
            derandomize=True,  # the same runs every time: what they walked is asserted below
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
    # The runs walked the paths that matter, or the property proves little.
    assert min(Badges.seen[k] for k in ("claim", "rename", "roster", "by roster", "verify", "revoke")) >= 5, (
        Badges.seen
    )
