"""The audit chain: a long random history replays to every status, and any edit to it is reported."""

import io
import random
import re
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from directory.credentials import decisions, public, service, standing
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import RuleError
from directory.timeutil import today_utc
from tests.factories import PDF, PNG

GENESIS = "0" * 64
# The status machine, as (from, to) edges; None is "not yet submitted". Written out, not read from MOVES.
EDGES = {
    (None, "pending"),
    ("pending", "contested"),
    ("pending", "verified"),
    ("pending", "rejected"),
    ("contested", "verified"),
    ("contested", "rejected"),
    ("verified", "verified"),
    ("verified", "revoked"),
    ("verified", "expired"),
    ("verified", "lapsed"),
    ("verified", "recheck"),
    ("recheck", "verified"),
    ("recheck", "revoked"),
    ("recheck", "pending"),
    ("lapsed", "verified"),
    ("lapsed", "revoked"),
    ("lapsed", "pending"),
    ("rejected", "pending"),
    ("expired", "pending"),
}
SYSTEM_METHODS = ("expiry", "contest", "grace")


def upload(rng: random.Random | None = None) -> FileStorage:
    base, name = (PNG, "scan.png") if rng is None or rng.random() < 0.5 else (PDF, "scan.pdf")
    # A unique tail keeps every file's sha256 apart (a PDF still ends within 2 KB of %%EOF).
    tail = f"{rng.random() if rng else 0}".encode()
    return FileStorage(io.BytesIO(base + tail), name)


def claim(number: str, expires_on: date | None = date(2030, 1, 1)) -> dict:
    return {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": number,
        "issued_on": date(2015, 6, 1),
        "expires_on": expires_on,
        "techniques": [],
    }


def replay(credential_ids) -> dict[int, str | None]:
    """Each credential's status from its events alone, checking each link and each move on the way."""
    chains: dict[int, list[CredentialEvent]] = defaultdict(list)
    for event in db.session.scalars(sa.select(CredentialEvent).order_by(CredentialEvent.id)):
        chains[event.credential_id].append(event)
    statuses: dict[int, str | None] = {}
    for cid in credential_ids:
        status, prev = None, GENESIS
        for event in chains.get(cid, []):
            assert event.from_status == status, (cid, event.id)
            assert (event.from_status, event.to_status) in EDGES, (cid, event.id)
            assert event.prev_hash == prev and re.fullmatch(r"[0-9a-f]{64}", event.hash), (cid, event.id)
            assert (event.actor == "system") == (event.method in SYSTEM_METHODS), (cid, event.id)
            status, prev = event.to_status, event.hash
        statuses[cid] = status
    return statuses


class History:
    """Seeded random actions through the service layer; 409s are part of the game. Several owners
    claim numbers from a small pool, so contests happen; owners rename themselves, so re-checks do."""

    def __init__(self, factory, seed: int):
        self.rng = random.Random(seed)
        self.owners = [factory.practitioner().user for _ in range(3)]
        self.admins = [factory.user("admin") for _ in range(3)]
        self.credentials: list[tuple[int, object]] = []  # (id, owner)
        self.done: Counter = Counter()

    def pick(self, wanted: tuple[str, ...]) -> tuple[int, object]:
        """Mostly a credential where the move can succeed, sometimes any (a 409 to ignore)."""
        reads = {c.id: standing.effective_status(c) for c in db.session.scalars(sa.select(Credential))}
        fitting = [c for c in self.credentials if reads[c[0]] in wanted]
        return self.rng.choice(fitting if fitting and self.rng.random() < 0.7 else self.credentials)

    def step(self) -> None:
        rng = self.rng
        kind = rng.choices(
            ["submit", "verify", "reject", "revoke", "resubmit", "rename", "move-date", "move-check", "job"],
            weights=[3, 7, 3, 3, 4, 1, 2, 2, 2],
        )[0]
        kind = kind if self.credentials else "submit"
        if kind == "submit":
            owner = rng.choice(self.owners)
            credential = service.submit(owner, claim(f"CMT-{1000 + rng.randrange(12)}"), upload(rng))
            self.credentials.append((credential.id, owner))
        elif kind in ("verify", "reject", "revoke"):
            wanted = {
                "verify": ("pending", "contested", "verified", "recheck", "lapsed"),
                "reject": ("pending", "contested"),
                "revoke": ("verified", "recheck", "lapsed"),
            }[kind]
            cid, _ = self.pick((rng.choice(wanted),))
            action = {"action": kind, "reason": f"reason {rng.randrange(1000)}"}
            decisions.decide(rng.choice(self.admins), cid, action)
        elif kind == "resubmit":
            cid, owner = self.pick((rng.choice(service.RESUBMITTABLE),))  # each kind, not mostly rejected
            service.resubmit(owner, cid, upload(rng))
        elif kind == "rename":
            service.set_legal_name(rng.choice(self.owners), f"Casey {rng.choice(['Lin', 'Park', 'Roe'])} Doe")
        elif kind == "move-date":
            credential = db.session.get(Credential, self.pick(("verified",))[0])
            credential.expires_on = today_utc() + timedelta(days=rng.choice([-400, -1, 0, 1, 365, 3000]))
            db.session.commit()
        elif kind == "move-check":
            credential = db.session.get(Credential, self.pick(("verified",))[0])
            if credential.checked_at:
                credential.checked_at -= timedelta(days=rng.choice([300, 380, 400]))
                db.session.commit()
        else:
            public.expire_due()
        self.done[kind] += 1

    def run(self, count: int) -> Counter:
        refused: Counter = Counter()
        for _ in range(count):
            try:
                self.step()
            except RuleError as exc:
                assert exc.status == 409, exc.message
                refused[exc.status] += 1
        return refused


def test_a_thousand_random_actions_replay_to_every_status(factory, runner, fast_files):
    history = History(factory, seed=20240611)
    refused = history.run(1500)
    result = runner.invoke(args=["directory", "audit-verify"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    rows = dict(db.session.execute(sa.select(Credential.id, Credential.status)).all())
    assert len(rows) == len(history.credentials) == history.done["submit"]
    assert replay(rows) == rows
    moves = Counter(
        db.session.execute(sa.select(CredentialEvent.from_status, CredentialEvent.to_status)).all()
    )
    assert f"{moves.total()} events, {len(rows)} credentials" in result.output
    # The sequence has to walk every edge, with refusals along the way, or it proves little.
    assert set(moves) == EDGES and min(moves.values()) >= 3, moves
    assert 100 <= refused[409] <= 700, (history.done, refused)
    # Whatever happened, no number ever had two holders.
    holders = Counter(
        db.session.execute(
            sa.select(Credential.number_key).where(Credential.status.in_(standing.HELD))
        ).scalars()
    )
    assert all(n == 1 for n in holders.values()), holders


# --- tampering ----------------------------------------------------------------------------------


@pytest.fixture
def trail(factory, fast_files):
    """Two credentials with some history: (first's event ids, second's id, pending one's id)."""
    owner = factory.practitioner().user
    admin = factory.user("admin")
    first = service.submit(owner, claim("CMT-1001"), upload())
    decisions.decide(admin, first.id, {"action": "verify", "reason": ""})
    decisions.decide(admin, first.id, {"action": "revoke", "reason": "Board suspended it"})
    second = service.submit(owner, claim("CMT-1002"), upload())
    decisions.decide(admin, second.id, {"action": "reject", "reason": "Blurry"})
    service.resubmit(owner, second.id, upload())
    ids = db.session.scalars(
        sa.select(CredentialEvent.id)
        .where(CredentialEvent.credential_id == first.id)
        .order_by(CredentialEvent.id)
    ).all()
    return {"first": first.id, "events": ids, "second": second.id}


def audit(runner) -> tuple[int, list[str]]:
    result = runner.invoke(args=["directory", "audit-verify"])
    return result.exit_code, result.output.splitlines()


def test_an_untouched_trail_verifies(runner, trail):
    code, lines = audit(runner)
    assert code == 0 and lines == ["Audit chain intact: 6 events, 2 credentials replayed."]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "Looked fine to me"),
        ("actor_ref", "user:0123456789abcdef0123456789abcdef"),
        ("to_status", "rejected"),
        ("method", "roster"),
        ("evidence_sha256", "f" * 64),
        ("at", "shift"),
    ],
)
def test_an_edited_event_is_named(runner, trail, column, value):
    middle = trail["events"][1]
    table = CredentialEvent.__table__
    if value == "shift":
        at = db.session.scalar(sa.select(table.c.at).where(table.c.id == middle))
        value = at + timedelta(seconds=1)
    if column == "reason":
        # Literally SQL, as someone with database access would do it.
        db.session.execute(
            sa.text("UPDATE credential_events SET reason = :r WHERE id = :id"), {"r": value, "id": middle}
        )
    else:
        db.session.execute(sa.update(table).where(table.c.id == middle).values({column: value}))
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1
    assert lines == [f"BROKEN credential {trail['first']}: event {middle}: its content was changed"]


def test_an_event_moved_to_another_user_is_named(runner, factory, trail):
    other = factory.user("admin")
    middle = trail["events"][1]
    db.session.execute(
        sa.text("UPDATE credential_events SET actor_id = :a WHERE id = :id"), {"a": other.id, "id": middle}
    )
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1
    assert lines == [
        f"BROKEN credential {trail['first']}: event {middle}: names another account than the one that acted"
    ]


def test_a_deleted_event_is_named(runner, trail):
    first, middle, last = trail["events"]
    db.session.execute(sa.text("DELETE FROM credential_events WHERE id = :id"), {"id": middle})
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1
    assert lines == [f"BROKEN credential {trail['first']}: event {last}: links to the wrong event"]


def test_a_deleted_last_event_shows_in_the_replay(runner, trail):
    last = trail["events"][-1]
    db.session.execute(sa.text("DELETE FROM credential_events WHERE id = :id"), {"id": last})
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1
    assert lines == [
        f"BROKEN credential {trail['first']}: its current status: status revoked differs from its events' verified"
    ]


def test_a_status_written_around_the_lifecycle_is_reported(runner, trail):
    db.session.execute(
        sa.text("UPDATE credentials SET status = 'verified' WHERE id = :id"), {"id": trail["second"]}
    )
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1
    assert lines == [
        f"BROKEN credential {trail['second']}: its current status: status verified differs from its events' pending"
    ]


def test_every_broken_credential_is_reported(runner, trail):
    db.session.execute(
        sa.text("UPDATE credential_events SET reason = 'x' WHERE id = :id"), {"id": trail["events"][0]}
    )
    db.session.execute(
        sa.text("UPDATE credentials SET status = 'rejected' WHERE id = :id"), {"id": trail["second"]}
    )
    db.session.commit()
    code, lines = audit(runner)
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"BROKEN credential {trail['first']}: event {trail['events'][0]}:")
    assert lines[1].startswith(f"BROKEN credential {trail['second']}: its current status:")


# --- the admin audit API ------------------------------------------------------------------------


def test_the_audit_api_shows_one_credentials_chain(client, admin_headers, trail):
    response = client.get(
        "/api/v1/admin/audit", query_string={"credential_id": trail["first"]}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    events = response.get_json()
    assert [e["id"] for e in events] == trail["events"]
    assert {e["credential_id"] for e in events} == {trail["first"]}
    fields = {
        "id",
        "credential_id",
        "from_status",
        "to_status",
        "actor",
        "method",
        "reason",
        "at",
        "prev_hash",
        "hash",
    }
    assert all(fields <= set(e) for e in events)
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "pending"),
        ("pending", "verified"),
        ("verified", "revoked"),
    ]
    assert events[-1]["reason"] == "Board suspended it"
    assert [e["prev_hash"] for e in events] == [GENESIS] + [e["hash"] for e in events[:-1]]
    assert len({e["hash"] for e in events}) == 3


def test_the_audit_api_without_a_filter_lists_every_event(client, admin_headers, trail):
    events = client.get("/api/v1/admin/audit", headers=admin_headers).get_json()
    assert len(events) == 6 and {e["credential_id"] for e in events} == {trail["first"], trail["second"]}


def test_the_audit_api_refuses_a_bad_id(client, admin_headers):
    response = client.get("/api/v1/admin/audit", query_string={"credential_id": "x"}, headers=admin_headers)
    assert response.status_code == 422 and "credential_id" in response.get_json()["errors"]


@pytest.mark.parametrize(("role", "code"), [("practitioner", 403), ("client", 403), (None, 401)])
def test_the_audit_api_is_for_admins_only(client, factory, trail, role, code):
    headers = factory.headers(factory.user(role)) if role else {}
    response = client.get(
        "/api/v1/admin/audit", query_string={"credential_id": trail["first"]}, headers=headers
    )
    assert response.status_code == code and response.get_json()["code"] == code
