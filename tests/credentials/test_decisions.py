"""Admin decisions: refusals that change nothing, an admin's own credential, and two admins at once."""

import threading

import pytest
import sqlalchemy as sa

from directory.credentials import service
from directory.credentials.audit import verify_chain
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from tests.factories import PASSWORD, make_admin


def decision_url(cid) -> str:
    return f"/api/v1/admin/credentials/{cid}/decision"


def state(cid) -> tuple[str, int]:
    """(status, number of events) read fresh from the database."""
    db.session.expire_all()
    status = db.session.scalar(sa.select(Credential.status).where(Credential.id == cid))
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(CredentialEvent).where(CredentialEvent.credential_id == cid)
    )
    return status, events


def assert_error(response, code: int, field: str | None = None) -> None:
    body = response.get_json()
    assert response.status_code == code, body
    assert body["code"] == code and body["status"] and body["message"], body
    if field:
        assert field in body.get("errors", {}), body


@pytest.fixture
def pending(practitioner, submit):
    created = submit(practitioner.headers)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


@pytest.fixture
def decide(client, admin_headers):
    def _decide(cid, action, reason="", headers=admin_headers):
        body = {"action": action} if reason is None else {"action": action, "reason": reason}
        return client.post(decision_url(cid), json=body, headers=headers)

    return _decide


def moved_to(decide, cid, *steps) -> None:
    for action in steps:
        response = decide(cid, action, "Checked with the board")
        assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "reject"}, "reason"),
        ({"action": "reject", "reason": "   "}, "reason"),
        ({"action": "reject", "reason": None}, "reason"),
        ({"action": "approve"}, "action"),
        ({"action": "expire", "reason": "x"}, "action"),
        ({"action": "resubmit", "reason": "x"}, "action"),
        ({"reason": "no action"}, "action"),
        ({"action": "verify", "status": "verified"}, "status"),
        ({"action": "reject", "reason": "x" * 2001}, "reason"),
    ],
)
def test_invalid_decisions_are_422_and_change_nothing(client, admin_headers, pending, body, field):
    before = state(pending)
    assert_error(client.post(decision_url(pending), json=body, headers=admin_headers), 422, field)
    assert state(pending) == before == ("pending", 1)


def test_revoke_without_a_reason_is_422(decide, pending):
    moved_to(decide, pending, "verify")
    assert_error(decide(pending, "revoke", ""), 422, "reason")
    assert state(pending) == ("verified", 2)


def test_a_reason_is_kept_trimmed(client, decide, admin_headers, pending):
    assert decide(pending, "reject", "  Number not on the board's register  ").status_code == 200
    trail = client.get(f"/api/v1/admin/audit?credential_id={pending}", headers=admin_headers).get_json()
    assert trail[-1]["reason"] == "Number not on the board's register"


def test_a_missing_credential_is_404(decide, pending):
    assert_error(decide(pending + 1000, "verify"), 404)
    assert state(pending) == ("pending", 1)


@pytest.mark.parametrize("role", ["practitioner", "client", None])
def test_only_admins_decide(client, factory, pending, role):
    headers = factory.headers(factory.user(role)) if role else {}
    response = client.post(decision_url(pending), json={"action": "verify"}, headers=headers)
    assert_error(response, 403 if role else 401)
    assert state(pending) == ("pending", 1)


@pytest.mark.parametrize("role", ["client", None])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/v1/admin/credentials/{cid}/decision", {"action": "bogus"}),
        ("get", "/api/v1/admin/credentials?status=bogus", None),
        ("get", "/api/v1/admin/credentials/{cid}/evidence?version=0", None),
        ("get", "/api/v1/admin/audit?credential_id=x", None),
    ],
    ids=["decision", "queue", "evidence", "audit"],
)
def test_the_caller_is_checked_before_the_input(client, factory, pending, role, method, url, body):
    headers = factory.headers(factory.user(role)) if role else {}
    response = getattr(client, method)(url.format(cid=pending), json=body, headers=headers)
    assert response.status_code == (403 if role else 401), response.get_json()
    assert state(pending) == ("pending", 1)


def test_deciding_twice_is_409(decide, pending):
    moved_to(decide, pending, "verify")
    assert_error(decide(pending, "verify"), 409)
    assert state(pending) == ("verified", 2)


@pytest.mark.parametrize(
    ("path", "action", "status", "events"),
    [
        ((), "revoke", "pending", 1),
        (("verify",), "verify", "verified", 2),
        (("verify",), "reject", "verified", 2),
        (("reject",), "verify", "rejected", 2),
        (("reject",), "reject", "rejected", 2),
        (("reject",), "revoke", "rejected", 2),
        (("verify", "revoke"), "verify", "revoked", 3),
        (("verify", "revoke"), "reject", "revoked", 3),
        (("verify", "revoke"), "revoke", "revoked", 3),
    ],
)
def test_forbidden_moves_are_409_and_change_nothing(decide, pending, path, action, status, events):
    moved_to(decide, pending, *path)
    assert state(pending) == (status, events)
    assert_error(decide(pending, action, "Because"), 409)
    assert state(pending) == (status, events)


@pytest.mark.parametrize("action", ["verify", "reject"])
def test_an_admin_never_decides_on_their_own_credential(client, factory, practitioner, submit, action):
    cid = submit(practitioner.headers).get_json()["id"]
    own = factory.headers(make_admin(practitioner.user.email))
    response = client.post(decision_url(cid), json={"action": action, "reason": "Mine"}, headers=own)
    assert_error(response, 403)
    assert state(cid) == ("pending", 1)


def test_an_admin_cannot_revoke_their_own_credential_either(client, factory, practitioner, submit, decide):
    cid = submit(practitioner.headers).get_json()["id"]
    moved_to(decide, cid, "verify")
    own = factory.headers(make_admin(practitioner.user.email))
    assert_error(decide(cid, "revoke", "Mine", headers=own), 403)
    assert state(cid) == ("verified", 2)


def _token(client, email: str) -> str:
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


# --- two admins at the same moment --------------------------------------------------------------


def race(make_app, headers_pair, cid, actions, barrier_in_get: bool, monkeypatch):
    """Each admin decides from its own thread and app (its own engine and session)."""
    apps = [make_app(), make_app()]
    start = threading.Barrier(2, timeout=20)
    if barrier_in_get:
        # Both have read the pending credential before either writes: the stale-read path.
        loaded = threading.Barrier(2, timeout=20)
        original = service.get

        def get_then_wait(credential_id):
            found = original(credential_id)
            loaded.wait()
            return found

        monkeypatch.setattr(service, "get", get_then_wait)
    results: list = [None, None]

    def run(i):
        client = apps[i].test_client()
        start.wait()
        try:
            response = client.post(
                decision_url(cid), json={"action": actions[i], "reason": "Looked"}, headers=headers_pair[i]
            )
            results[i] = (response.status_code, response.get_json())
        except Exception as exc:  # shown by the assertion on the results
            results[i] = (None, repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("barrier_in_get", [True, False], ids=["both-read-first", "free-race"])
@pytest.mark.parametrize("actions", [("verify", "verify"), ("verify", "reject"), ("reject", "verify")])
@pytest.mark.parametrize("attempt", range(3))
def test_two_admins_at_once_one_wins(
    factory, make_app, practitioner, submit, monkeypatch, actions, barrier_in_get, attempt
):
    cid = submit(practitioner.headers).get_json()["id"]
    headers = [factory.headers(factory.user("admin")) for _ in range(2)]
    db.session.commit()  # the main thread holds no transaction while the workers run
    results = race(make_app, headers, cid, actions, barrier_in_get, monkeypatch)

    assert sorted(code or 0 for code, _ in results) == [200, 409], results
    winner = next(i for i, (code, _) in enumerate(results) if code == 200)
    loser_body = next(body for code, body in results if code == 409)
    assert loser_body["code"] == 409 and loser_body["message"]
    if barrier_in_get:  # the loser read "pending" too: only the concurrency guard can have stopped it
        assert "same moment" in loser_body["message"], loser_body
    expected = {"verify": "verified", "reject": "rejected"}[actions[winner]]
    assert results[winner][1] == {"id": cid, "status": expected}
    assert state(cid) == (expected, 2)
    decisions = db.session.scalars(
        sa.select(CredentialEvent).where(
            CredentialEvent.credential_id == cid, CredentialEvent.from_status.is_not(None)
        )
    ).all()
    assert [(e.from_status, e.to_status) for e in decisions] == [("pending", expected)]
    assert verify_chain()["broken"] == []
