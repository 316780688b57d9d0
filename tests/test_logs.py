"""Structured security logs with a request id; error responses carry the id, never a trace; and no
password, token, cookie or evidence content ever reaches a log line."""

import io
import json
import logging
import re

import pytest
from pythonjsonlogger.json import JsonFormatter

from directory.accounts.models import User
from directory.extensions import db, mail
from directory.logs import RequestContextFilter
from tests.factories import PASSWORD, authenticator_code, signed_in, submission, totp_code

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def _lines(records) -> list[dict]:
    """Every captured record as the JSON line production writes."""
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return [json.loads(formatter.format(record)) for record in records]


def _events(caplog, name) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


@pytest.fixture
def caplog(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="directory")
    return caplog


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/practitioners/999999", 404),
        ("GET", "/api/v1/me", 401),
        ("POST", "/api/v1/auth/register", 400),
        ("PATCH", "/api/v1/auth/register", 405),
        ("GET", "/no/such/page", 404),
    ],
)
def test_every_error_carries_the_request_id_of_its_response(client, method, path, status):
    response = client.open(
        path, method=method, data="{" if method == "POST" else None, content_type="application/json"
    )
    assert response.status_code == status
    rid = response.headers["X-Request-ID"]
    assert REQUEST_ID.match(rid)
    if path.startswith("/api/"):
        assert response.get_json()["request_id"] == rid
    else:
        assert rid in response.get_data(as_text=True)


def test_successes_carry_a_request_id_too_and_each_request_its_own(client):
    first, second = client.get("/api/v1/techniques"), client.get("/api/v1/techniques")
    assert REQUEST_ID.match(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_client_cannot_choose_its_request_id(client):
    response = client.get("/api/v1/techniques", headers={"X-Request-ID": "forged-id-0001"})
    assert response.headers["X-Request-ID"] != "forged-id-0001"


def test_a_crash_is_a_500_with_the_id_and_no_trace(make_app, caplog):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals at line 42")

    response = app.test_client().get("/api/v1/_boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.get_json()["request_id"] == response.headers["X-Request-ID"]
    assert "secret internals" not in body and "Traceback" not in body and "RuntimeError" not in body
    # The operator finds the trace in the log by that id.
    crash = [r for r in caplog.records if r.exc_info and getattr(r, "request_id", None)]
    assert crash and crash[0].request_id == response.headers["X-Request-ID"]


def test_sign_ins_and_failures_are_logged_as_structured_events(app, client, factory, caplog):
    user = factory.user()
    wrong = client.post("/login", data={"email": user.email, "password": "wrong password"})
    right = client.post("/login", data={"email": user.email, "password": PASSWORD})

    (failure,) = _events(caplog, "sign_in.failure")
    (success,) = _events(caplog, "sign_in.success")
    assert failure.user_id == user.id and failure.levelno == logging.WARNING
    assert failure.request_id == wrong.headers["X-Request-ID"]
    assert success.request_id == right.headers["X-Request-ID"] and success.role == "client"
    line = _lines([success])[0]
    assert line["event"] == "sign_in.success" and line["path"] == "/login" and line["method"] == "POST"


def test_denials_are_logged_with_who_and_what(app, client, factory, caplog):
    client_user = factory.user("client")
    response = client.get("/api/v1/me/profile", headers=factory.headers(client_user))
    assert response.status_code == 403
    (denial,) = _events(caplog, "access.denied")
    assert (denial.status, denial.user_id, denial.role) == (403, client_user.id, "client")
    assert denial.path == "/api/v1/me/profile" and denial.request_id == response.headers["X-Request-ID"]

    caplog.clear()
    assert app.test_client().get("/account").status_code == 302
    (anonymous,) = _events(caplog, "access.denied")
    assert anonymous.status == 401 and not hasattr(anonymous, "user_id")


def test_credential_decisions_are_logged(client, factory, caplog):
    practitioner = factory.practitioner()
    data = {**submission(), "evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "licence.pdf")}
    cid = client.post(
        "/api/v1/me/credentials",
        data=data,
        headers=factory.headers(practitioner.user),
        content_type="multipart/form-data",
    ).get_json()["id"]
    admin = factory.user("admin")
    client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": "verify", "reason": ""},
        headers=factory.headers(admin),
    )
    (decision,) = _events(caplog, "credential.decision")
    assert (decision.credential_id, decision.action, decision.user_id) == (cid, "verify", admin.id)


def test_the_formatter_drops_fields_named_like_secrets():
    record = logging.LogRecord("directory.security", logging.INFO, __file__, 1, "x", None, None)
    record.password = "hunter2"
    record.api_token = "abc"
    record.user_id = 7
    RequestContextFilter().filter(record)
    assert not hasattr(record, "password") and not hasattr(record, "api_token") and record.user_id == 7


def test_no_secret_of_the_suites_flows_reaches_the_logs(app, client, factory, caplog):
    """Register, sign in (page and API, right and wrong), upload evidence, change and reset a password, an
    admin's authenticator and decision: then search every captured log line for every secret used."""
    secrets_used = {PASSWORD, "wrong password 123", "a brand new passphrase", "a reset passphrase!"}
    evidence_marker = "EVIDENCE-CONTENT-7f3a9c"

    user = factory.user("practitioner")
    factory.practitioner(user)
    assert (
        client.post("/login", data={"email": user.email, "password": "wrong password 123"}).status_code == 401
    )
    browser = signed_in(app, user)
    secrets_used.add(browser.get_cookie("session").value)
    token = factory.token(user)
    secrets_used.add(token)
    headers = {"Authorization": f"Bearer {token}"}
    pdf = f"%PDF-1.4\n% {evidence_marker}\n%%EOF\n".encode()
    data = {**submission(), "evidence": (io.BytesIO(pdf), "licence.pdf")}
    cid = client.post(
        "/api/v1/me/credentials", data=data, headers=headers, content_type="multipart/form-data"
    ).get_json()["id"]
    changed = browser.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    )
    assert changed.status_code == 302
    with mail.record_messages() as outbox:
        client.post("/api/v1/auth/password-reset", json={"email": user.email})
    reset_token = re.search(r"/password-reset/(\S+)", outbox[0].body).group(1)
    secrets_used.add(reset_token)
    assert client.get(f"/password-reset/{reset_token}").status_code == 302
    assert client.post("/password-reset/new", data={"password": "a reset passphrase!"}).status_code == 302

    admin = factory.user("admin")
    secrets_used.add(db.session.get(User, admin.id).totp_secret)
    code = totp_code(admin)
    admin_token = client.post(
        "/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD, "totp": code}
    ).get_json()["token"]
    secrets_used.add(admin_token)
    admin_headers = {"Authorization": f"Bearer {admin_token}"}
    with client.get(f"/api/v1/admin/credentials/{cid}/evidence", headers=admin_headers) as download:
        assert download.status_code == 200 and evidence_marker.encode() in download.data
    decided = client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": "verify", "reason": ""},
        headers=admin_headers,
    )
    assert decided.status_code == 200
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": "Bearer not-a-real-token-but-secret-looking"}
        ).status_code
        == 401
    )
    secrets_used.add("not-a-real-token-but-secret-looking")

    assert len(caplog.records) > 15  # the flows did log
    text = "\n".join(json.dumps(line) for line in _lines(caplog.records))
    for secret in secrets_used:
        assert secret not in text, f"a secret reached the logs: {secret[:6]}…"
    assert evidence_marker not in text
    assert authenticator_code(db.session.get(User, admin.id).totp_secret) not in {
        str(getattr(r, "message", "")) for r in caplog.records
    }
