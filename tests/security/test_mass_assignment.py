"""Mass assignment over the API: every write operation in the OpenAPI document has an entry here, and
each server-owned field sent to it gets a 422 naming the field, with not one row changed.

The table is checked against /api/v1/openapi.json, so a new endpoint without an entry fails the
suite instead of being forgotten; each entry's plain request is also checked to succeed, so the
422s come from the field and not from a request that was wrong anyway."""

import io
from dataclasses import dataclass

import pytest

from tests.factories import PASSWORD, PNG, submission
from tests.security.world import REVIEW_BODY, World, changes, snapshot, touched

WRITES = ("post", "put", "patch")
WHEN = "2099-01-01T00:00:00+00:00"
CHOSEN = "chosen-by-the-caller"
HASH = "0" * 64
ROSTER = "number,name,status,expires_on\nCMT-1001,Pat Kneads,active,2030-06-01\n"
NEW_PASSWORD = "a brand new passphrase"


@dataclass(frozen=True)
class Op:
    who: str | None  # the caller: a World role, or nobody
    body: object  # the valid request: a dict, or a callable(world) -> dict
    owned: tuple[str, ...]  # fields only the server sets
    params: tuple[tuple[str, str], ...] = ()  # path parameter -> a name World.id() makes
    upload: str | None = None  # multipart, with a file under this name


API = {
    ("POST", "/api/v1/auth/register"): Op(
        None,
        {"email": "new@example.org", "password": PASSWORD, "role": "client"},
        (
            "role",
            "id",
            "is_admin",
            "created_at",
            "password_hash",
            "totp_secret",
            "email_confirmed_at",
            "registered_from",
        ),
    ),
    ("POST", "/api/v1/auth/tokens"): Op(
        None,
        lambda w: {"email": w.user("practitioner").email, "password": PASSWORD},
        (
            "id",
            "user_id",
            "role",
            "token_hash",
            "expires_at",
            "revoked_at",
            "authenticated_at",
            "mfa_at",
            "address",
        ),
    ),
    ("POST", "/api/v1/auth/password"): Op(
        "practitioner",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ("password_hash", "id", "user_id", "role", "totp_secret", "authenticated_at"),
    ),
    ("POST", "/api/v1/auth/password-reset"): Op(
        None,
        lambda w: {"email": w.user("practitioner").email},
        ("token", "token_hash", "user_id", "id", "expires_at", "used_at"),
    ),
    ("POST", "/api/v1/auth/password-reset/confirm"): Op(
        None,
        lambda w: {"token": w.reset_token(), "password": NEW_PASSWORD},
        ("user_id", "email", "role", "id", "used_at", "expires_at"),
    ),
    ("POST", "/api/v1/auth/confirm-email"): Op(
        None,
        lambda w: {"token": w.confirmation_token()},
        ("user_id", "email", "email_confirmed_at", "id", "used_at", "expires_at"),
    ),
    ("POST", "/api/v1/me/review-invites"): Op(
        "practitioner",
        {"email": "a.client@example.org"},
        ("id", "practitioner_id", "code", "code_hash", "used_at", "expires_at", "created_at"),
    ),
    ("POST", "/api/v1/auth/totp/confirm"): Op(
        "enrolling",
        lambda w: {"totp": w.enrolment_code()},
        ("totp_secret", "totp_pending", "totp_last_step", "mfa_at", "user_id", "role"),
    ),
    ("PUT", "/api/v1/me/profile"): Op(
        "practitioner",
        {"display_name": "Pat Kneads"},
        (
            "id",
            "user_id",
            "verified",
            "rating",
            "review_count",
            "years_experience",
            "verified_years_experience",
            "accepting_confirmed_at",
            "accepting_lapses_at",
            "credentials",
            "created_at",
            "updated_at",
            "legal_name",  # only through its own endpoint, which sends verified credentials back
        ),
    ),
    ("PUT", "/api/v1/me/legal-name"): Op(
        "practitioner",
        {"legal_name": "Pat Kneads Doe"},
        ("id", "practitioner_id", "verified_legal_name", "sent_back", "status", "display_name"),
    ),
    ("POST", "/api/v1/me/locations"): Op(
        "practitioner",
        {"lat": 30.2672, "lon": -97.7431, "city": "Austin"},
        ("id", "practitioner_id", "geocoded_from", "created_at"),
    ),
    ("POST", "/api/v1/me/credentials"): Op(
        "practitioner",
        submission(number="CMT-9009"),
        ("id", "practitioner_id", "user_id", "status", "method", "verified_at", "reason", "version")
        + ("sha256", "stored_name", "created_at", "updated_at", "number_key", "checked_at")
        + ("verified_legal_name", "source_issued_on", "source_expires_on", "confirmed_techniques"),
        upload="evidence",
    ),
    ("POST", "/api/v1/me/credentials/{credential_id}/evidence"): Op(
        "practitioner",
        {},
        (
            "status",
            "version",
            "sha256",
            "size",
            "stored_name",
            "content_type",
            "uploaded_at",
            "practitioner_id",
        ),
        (("credential_id", "rejected"),),
        upload="evidence",
    ),
    ("POST", "/api/v1/admin/credentials/{credential_id}/decision"): Op(
        "admin",
        {"action": "verify", "reason": "Checked against the board's register."},
        ("status", "method", "verified_at", "actor", "actor_id", "version", "hash", "prev_hash", "id")
        + ("checked_at", "verified_legal_name", "legal_name", "number_key", "actor_ref", "practitioner_id"),
        (("credential_id", "pending"),),
    ),
    ("POST", "/api/v1/admin/issuers/{slug}/roster"): Op(
        "admin",
        {},
        ("status", "method", "verified_at", "credential_id", "issuer_id", "sha256"),
        (("slug", "issuer"),),
        upload="file",
    ),
    ("POST", "/api/v1/practitioners/{practitioner_id}/reviews"): Op(
        "newcomer",
        {"rating": 5, "body": REVIEW_BODY},
        ("id", "author_id", "user_id", "practitioner_id", "verified_client", "hidden", "invite_id")
        + ("review_count", "rating_average", "created_at", "updated_at"),
        (("practitioner_id", "practitioner"),),
    ),
    ("PUT", "/api/v1/reviews/{review_id}"): Op(
        "client",
        {"rating": 3, "body": REVIEW_BODY},
        ("id", "author_id", "practitioner_id", "verified_client", "invite_code", "hidden")
        + ("created_at", "updated_at"),
        (("review_id", "review"),),
    ),
    ("POST", "/api/v1/reviews/{review_id}/response"): Op(
        "practitioner",
        {"body": "Thank you for the kind words."},
        ("id", "review_id", "practitioner_id", "created_at"),
        (("review_id", "review"),),
    ),
    ("POST", "/api/v1/reviews/{review_id}/flags"): Op(
        "newcomer",
        {"reason": "Reads like an advert."},
        ("id", "user_id", "review_id", "resolved", "created_at"),
        (("review_id", "review"),),
    ),
    ("POST", "/api/v1/admin/reviews/{review_id}/moderation"): Op(
        "admin",
        {"action": "hide", "reason": "Off topic."},
        ("id", "admin", "admin_id", "at", "hidden", "review_id"),
        (("review_id", "review"),),
    ),
}

# Operations that take no body: whatever is sent is ignored, checked by `test_a_body_is_ignored_*`.
BODILESS = {
    ("POST", "/api/v1/auth/sign-out-everywhere"): "practitioner",
    ("POST", "/api/v1/auth/totp"): "enrolling",
    ("POST", "/api/v1/me/profile/confirm-accepting"): "practitioner",
    ("POST", "/api/v1/auth/confirm-email/resend"): "unconfirmed",
    ("POST", "/api/v1/auth/recovery-codes"): "admin",
}
OK = (200, 201, 202, 204)


def value(w, name: str):
    """What an attacker would send: someone else's ids, the admin role, a verified status."""
    theirs = {
        "user_id": w.user("other").id,
        "author_id": w.user("other").id,
        "practitioner_id": w.profile("other").id,
    }
    special = {"role": "admin", "status": "verified", "method": "roster", "geocoded_from": "gps"}
    if name in theirs:
        return theirs[name]
    if name in special:
        return special[name]
    if name.endswith(("_at", "_on")):
        return WHEN
    if name.endswith(("hash", "sha256")) or name == "stored_name":
        return HASH
    if name.startswith(("is_", "verified", "hidden", "resolved")):
        return True
    if name in ("actor", "admin"):
        return w.user("other").email
    return 1


def prepare(w, key) -> tuple[str, dict]:
    """The URL and the valid body; anything these need (a reset link, an enrolment) is made here, before
    the snapshot is taken."""
    op = API[key]
    w.headers(op.who)  # the caller exists before the snapshot
    url = key[1].format(**{name: w.id(ref) for name, ref in op.params})
    return url, op.body(w) if callable(op.body) else dict(op.body)


def send(client, w, key, url: str, body: dict):
    method, op = key[0], API[key]
    headers = w.headers(op.who)
    if op.upload is None:
        return client.open(url, method=method, json=body, headers=headers)
    content = ROSTER.encode() if op.upload == "file" else PNG
    form = {k: v if isinstance(v, str) else str(v).lower() for k, v in body.items() if v is not None}
    form[op.upload] = (io.BytesIO(content), "upload.csv" if op.upload == "file" else "licence.png")
    return client.open(url, method=method, data=form, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def world(factory, client):
    return World(factory, client)


def spec_writes(client) -> dict:
    spec = client.get("/api/v1/openapi.json").get_json()
    return {
        (method.upper(), path): "requestBody" in operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in WRITES
    }


def test_every_write_operation_in_the_openapi_document_has_an_entry(client):
    writes = spec_writes(client)
    missing = sorted(set(writes) - API.keys() - BODILESS.keys())
    assert not missing, f"write operations without an entry: {missing}"
    stale = sorted((API.keys() | BODILESS.keys()) - set(writes))
    assert not stale, f"entries for no operation: {stale}"
    grown = [key for key in BODILESS if writes[key]]
    assert not grown, f"these take a body now, give them an API entry: {grown}"
    bodiless = [key for key in API if not writes[key]]
    assert not bodiless, f"these take no body, move them to BODILESS: {bodiless}"


@pytest.mark.parametrize("key", list(API), ids=[f"{m} {p}" for m, p in API])
def test_the_plain_request_of_each_entry_succeeds(client, world, key):
    response = send(client, world, key, *prepare(world, key))
    assert response.status_code in OK, response.get_data(as_text=True)


@pytest.mark.parametrize("key", list(API), ids=[f"{m} {p}" for m, p in API])
def test_each_server_owned_field_is_422_naming_it_and_changes_nothing(client, world, key):
    """One field a request, each alone, so no field hides behind another's error; one world for them all,
    which a refused request leaves as it was."""
    url, body = prepare(world, key)
    sent = {name: value(world, name) for name in API[key].owned}
    wrong = {}
    for name, bad in sent.items():
        before = snapshot()
        response = send(client, world, key, url, {**body, name: bad})
        answer = response.get_json() or {}
        if response.status_code != 422 or name not in answer.get("errors", {}):
            wrong[name] = (response.status_code, answer)
        elif diff := changes(before, snapshot()):
            wrong[name] = ("changed", diff)
    assert not wrong, wrong


def test_register_as_admin_is_refused_and_no_admin_exists(client, world):
    key = ("POST", "/api/v1/auth/register")
    url, body = prepare(world, key)
    before = snapshot()
    response = send(client, world, key, url, {**body, "role": "admin"})
    assert response.status_code == 422, response.get_json()
    assert "client or practitioner" in response.get_json()["errors"]["role"][0]
    assert changes(before, snapshot()) == {}
    sign_in = {"email": body["email"], "password": PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=sign_in).status_code == 401


def test_a_credential_sent_as_verified_stays_pending(client, world):
    key = ("POST", "/api/v1/me/credentials")
    url, body = prepare(world, key)
    refused = send(client, world, key, url, {**body, "status": "verified", "verified_at": WHEN})
    assert refused.status_code == 422
    created = send(client, world, key, url, body).get_json()
    assert (created["status"], created["verified_at"]) == ("pending", None)


@pytest.mark.parametrize("key", list(BODILESS), ids=[f"{m} {p}" for m, p in BODILESS])
def test_a_body_is_ignored_where_none_is_taken(client, world, key):
    method, url = key
    who = BODILESS[key]
    owner = world.user(who)
    world.headers(who)
    mine = getattr(owner.practitioner, "id", None)
    sent = {name: CHOSEN for name in ("code", "secret", "totp_secret", "otpauth_uri")}
    sent |= {"expires_at": WHEN, "accepting_confirmed_at": WHEN, "role": "admin"}
    sent |= {
        "practitioner_id": world.profile("other").id,
        "user_id": world.user("other").id,
        "id": world.profile("other").id,
    }
    before = snapshot()
    response = client.open(url, method=method, json=sent, headers=world.headers(who))
    assert response.status_code in OK, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert CHOSEN not in text and "2099" not in text
    diff = changes(before, snapshot())
    assert diff and CHOSEN not in repr(diff) and "2099" not in repr(diff)
    # Only the caller's own rows changed; nobody became an admin.
    for table, rows in touched(diff).items():
        for row in rows:
            assert row.get("user_id", owner.id) == owner.id, (table, row)
            assert row.get("practitioner_id", mine) == mine, (table, row)
            assert table != "users" or (row["id"], row["role"]) == (owner.id, owner.role), row
            assert table != "practitioners" or row["id"] == mine, row
