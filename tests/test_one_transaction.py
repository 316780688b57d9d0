"""One transaction per user action: a failure half-way through a multi-step action leaves no trace.

Each case runs a real action through its page or API, with one of its later steps made to fail once
the earlier steps have written (and flushed) their part. The database, read on a connection of its
own, must then be exactly as before (rows, outbox, mail queue, audit events), no evidence file may be
left behind, and the user must get an error: the refusal's own status for a refusal, a 500 for a crash.
Failure counters (auth_failures) are the one table allowed to change: they are kept on purpose.
"""

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from directory.accounts import recovery, service
from directory.extensions import db
from directory.rules import RuleError
from tests.credentials.roster_kit import HEADER, multipart, verify_by_document
from tests.factories import PASSWORD, PNG, committed_rows, in_transaction_rows, invite, mails_to, signed_in

KEPT_ON_PURPOSE = ("auth_failures",)
NEW_PASSWORD = "a brand new passphrase"  # noqa: S105  # nosec B105: test data


@dataclass
class Case:
    send: object  # () -> response
    step: tuple[str, str]  # (module, attribute) of the step made to fail
    when: str = "at"  # "at": fail instead of the step; "after": run the step, then fail
    only: object = None  # (args) -> bool: fail only the call this picks
    refused: int = 503  # the status a refusal reaches the user with


def _page_password_change(factory, app, client, fixture):
    user = factory.user()
    browser = signed_in(app, user)
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    # After the new password is set and every grant ended: this browser's new session.
    return Case(lambda: browser.post("/account/password", data=form), ("directory.accounts.grants", "issue"))


def _api_password_change(factory, app, client, fixture):
    user = factory.user()
    headers = factory.headers(user)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return Case(
        lambda: client.post("/api/v1/auth/password", json=body, headers=headers),
        ("directory.accounts.grants", "end_all"),
    )


def _password_reset(factory, app, client, fixture):
    user = factory.user()
    factory.headers(user)  # a live token, which the reset must end
    recovery.request_reset(user.email)
    token = re.search(r"/password-reset/([A-Za-z0-9_-]+)", mails_to(user.email)[-1]).group(1)
    body = {"token": token, "password": NEW_PASSWORD}
    # After the link is used up and the password set.
    return Case(
        lambda: client.post("/api/v1/auth/password-reset/confirm", json=body),
        ("directory.accounts.grants", "end_all"),
    )


def _registration(factory, app, client, fixture):
    form = {"email": "new.person@example.org", "password": NEW_PASSWORD, "role": "client"}
    # After the account's row is written: its confirmation link and mail.
    return Case(lambda: client.post("/register", data=form), ("directory.accounts.confirmation", "issue"))


def _roster_world(factory, fixture):
    """Two pending claims the roster verifies, and a verified one it lapses (not on the file)."""
    admin = fixture("admin")
    for name, number in (("Casey Lin", "CMT-1001"), ("Jordan Park", "CMT-2002"), ("Robin Roe", "CMT-3003")):
        p = factory.practitioner(display_name=name)
        created = _claim(factory.client, factory.headers(p.user), number)
        assert created.status_code == 201, created.get_json()
    verify_by_document(factory.client, admin, created.get_json()["id"])
    return admin, HEADER + "CMT-1001,Casey Lin,active,2030-06-01\nCMT-2002,Jordan Park,active,2030-06-01\n"


def _roster_page(factory, app, client, fixture):
    admin, body = _roster_world(factory, fixture)
    browser = signed_in(app, admin)
    # The verifications are written; the lapse that follows fails. The page says nothing was applied.
    return Case(
        lambda: browser.post("/admin/issuers/camtc/roster", **multipart(body)),
        ("directory.credentials.lifecycle", "transition_batch"),
        only=lambda args: args[1] == "lapse",
        refused=409,
    )


def _roster_api(factory, app, client, fixture):
    admin, body = _roster_world(factory, fixture)
    return Case(
        lambda: client.post("/api/v1/admin/issuers/camtc/roster", headers=admin.headers, **multipart(body)),
        ("directory.credentials.lifecycle", "transition_batch"),
        only=lambda args: args[1] == "lapse",
        refused=409,
    )


def _review_with_invite(factory, app, client, fixture):
    practitioner = factory.practitioner()
    reviewer = factory.user("client")
    code = invite(practitioner, reviewer.email)
    headers = factory.headers(reviewer)
    body = {"rating": 5, "body": "Knew exactly where the knot was.", "invite_code": code}
    # The invite is marked used; the review that would carry it fails.
    return Case(
        lambda: client.post(f"/api/v1/practitioners/{practitioner.id}/reviews", json=body, headers=headers),
        ("directory.reviews.invites", "redeem"),
        when="after",
    )


def _invite_creation(factory, app, client, fixture):
    practitioner = factory.practitioner()
    headers = factory.headers(practitioner.user)
    # The invite's row is written; the mail that carries its code fails.
    return Case(
        lambda: client.post(
            "/api/v1/me/review-invites", json={"email": "a.client@example.org"}, headers=headers
        ),
        ("directory.mail", "queue"),
    )


def _credential_with_evidence(factory, app, client, fixture):
    squatter = factory.practitioner(display_name="First Claimant")
    assert _claim(client, factory.headers(squatter.user)).status_code == 201
    holder = factory.practitioner(display_name="Casey Lin")
    headers = factory.headers(holder.user)
    # The file is stored and the claim, its evidence and its event written; marking it contested fails.
    return Case(
        lambda: _claim(client, headers),
        ("directory.credentials.lifecycle", "transition"),
        only=lambda args: args[1] == "contest",
    )


def _second_factor_page(factory, app, client, fixture):
    admin = service.create_admin("new.admin@example.org", PASSWORD)
    browser = app.test_client()
    assert browser.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/account/two-factor").status_code == 200  # the pending secret, kept
    db.session.refresh(admin)
    code = pyotp.TOTP(admin.totp_pending).now()
    # The secret is kept and the session marked; its first recovery codes fail.
    return Case(
        lambda: browser.post("/account/two-factor", data={"totp": code}),
        ("directory.accounts.recovery_codes", "replace"),
    )


def _second_factor_api(factory, app, client, fixture):
    admin = service.create_admin("new.admin@example.org", PASSWORD)
    headers = factory.headers(admin)
    secret = client.post("/api/v1/auth/totp", headers=headers).get_json()["secret"]
    body = {"totp": pyotp.TOTP(secret).now()}
    # The secret is kept; marking this token as past the second factor fails.
    return Case(
        lambda: client.post("/api/v1/auth/totp/confirm", json=body, headers=headers),
        ("directory.accounts.grants", "mark"),
    )


def _recovery_code_sign_in(factory, app, client, fixture):
    from directory.accounts import recovery_codes

    admin = factory.user("admin")
    codes = recovery_codes.make(admin)
    body = {"email": admin.email, "password": PASSWORD, "totp": codes[0]}
    # The code is used up and its notice queued; the token fails.
    return Case(lambda: client.post("/api/v1/auth/tokens", json=body), ("directory.accounts.grants", "issue"))


ACTIONS = {
    "password change (page)": _page_password_change,
    "password change (API)": _api_password_change,
    "password reset": _password_reset,
    "registration (page)": _registration,
    "roster import (page)": _roster_page,
    "roster import (API)": _roster_api,
    "review with invite": _review_with_invite,
    "invite creation": _invite_creation,
    "credential with evidence": _credential_with_evidence,
    "second factor set-up (page)": _second_factor_page,
    "second factor set-up (API)": _second_factor_api,
    "sign-in with a recovery code": _recovery_code_sign_in,
}


class Refusal(RuleError):
    pass


FAILURES = {
    "refusal": lambda: Refusal(503, "Simulated failure half-way."),
    "crash": lambda: RuntimeError("simulated crash half-way"),
}


def _make_fail(monkeypatch, case: Case, failure, hits: list):
    module, name = case.step
    original = getattr(__import__(module, fromlist=[name]), name)

    def failing(*args, **kwargs):
        if case.only is not None and not case.only(args):
            return original(*args, **kwargs)
        if case.when == "after":
            original(*args, **kwargs)
        db.session.flush()
        # Half-way for real: this action has written something its transaction has not committed.
        hits.append(in_transaction_rows(*KEPT_ON_PURPOSE) != committed_rows(*KEPT_ON_PURPOSE))
        raise failure()

    monkeypatch.setattr(f"{module}.{name}", failing)


def _evidence_files(app) -> set[Path]:
    return set((Path(app.config["DATA_DIR"]) / "evidence").rglob("*"))


def _claim(client, headers, number: str = "CMT-1001"):
    """A licence claim with its evidence (a PNG's first bytes are all the upload check reads)."""
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": number,
        "issued_on": "2015-06-01",
        "expires_on": "2030-06-01",
        "evidence": (io.BytesIO(PNG), "licence.png"),
    }
    return client.post(
        "/api/v1/me/credentials", data=data, headers=headers, content_type="multipart/form-data"
    )


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("action", ACTIONS)
def test_a_failure_half_way_leaves_no_trace(action, failure, app, client, factory, monkeypatch, request):
    case = ACTIONS[action](factory, app, client, request.getfixturevalue)
    before, files = committed_rows(*KEPT_ON_PURPOSE), _evidence_files(app)
    hits: list[bool] = []
    _make_fail(monkeypatch, case, FAILURES[failure], hits)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a crash answers as a server does

    response = case.send()

    assert hits == [True], "the failure must come after the action's first write"
    assert response.status_code == (500 if failure == "crash" else case.refused), response.get_data(True)
    if failure == "refusal" and case.refused == 503:
        assert "Simulated failure half-way." in response.get_data(as_text=True)
    assert committed_rows(*KEPT_ON_PURPOSE) == before
    assert _evidence_files(app) == files


@pytest.fixture
def admin(factory):
    user = factory.user("admin")
    user.headers = factory.headers(user)
    return user
