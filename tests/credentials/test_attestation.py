"""Signed records: a verified credential's attestation checks out offline with the published JWKS."""

import base64
import json
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from directory.credentials import public, signing, standing
from directory.timeutil import today_utc
from tests.credentials.roster_kit import offline_check


def b64json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture
def decide(client, admin_headers):
    def _decide(cid, action, reason=""):
        response = client.post(
            f"/api/v1/admin/credentials/{cid}/decision",
            json={"action": action, "reason": reason},
            headers=admin_headers,
        )
        assert response.status_code == 200, response.get_json()

    return _decide


@pytest.fixture
def verified(practitioner, submit, decide):
    created = submit(practitioner.headers)
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    decide(cid, "verify")
    return cid


def attest(client, cid) -> str:
    response = client.get(f"/api/v1/credentials/{cid}/attestation")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["jws"]


def published(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    return response.get_json()


def assert_404(response):
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == 404 and body["status"] == "Not Found" and body["message"]


def test_attestation_verifies_with_the_jwks_and_states_the_credential(client, practitioner, verified):
    token = attest(client, verified)
    jwks = published(client)
    decoded = offline_check(token, jwks)

    assert decoded.header == {"alg": "EdDSA", "kid": jwks["keys"][0]["kid"], "typ": "JWT"}
    [key] = jwks["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use", "key_ops"}, "no private part is published"
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key["key_ops"] == ["verify"]

    claims = decoded.claims
    # From configuration (the development default here), never from the request's Host.
    assert claims["iss"] == "http://127.0.0.1:5000" and claims["sub"] == f"credential:{verified}"
    assert isinstance(claims["iat"], int) and claims["exp"] == claims["iat"] + 30 * 86400
    assert len(claims["jti"]) == 22
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()["credentials"][0]
    credential = claims["credential"]
    assert credential == {
        "id": verified,
        "issuer": {"slug": "camtc", "name": profile["issuer"]["name"]},
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": "CMT-1001",
        "number_key": "CMT1001",
        "status": "verified",
        "method": "document",
        "verified_at": credential["verified_at"],
        "issued_on": None,  # the admin did not say the document shows it
        "expires_on": "2030-06-01",
        "expires_on_verified": False,
        "next_check_due": profile["next_check_due"],
        "techniques": [],
    }
    assert credential["verified_at"][:10] == today_utc().isoformat()
    assert claims["holder"] == {"practitioner_id": practitioner.id, "legal_name": "Casey Lin"}


def test_the_site_url_can_be_configured(app, client, verified):
    app.config["SITE_URL"] = "https://directory.example/"
    assert (
        offline_check(attest(client, verified), published(client)).claims["iss"]
        == "https://directory.example"
    )


def test_a_tampered_record_fails(client, verified):
    token = attest(client, verified)
    jwks = published(client)
    header, payload, signature = token.split(".")
    claims = b64json(payload)
    claims["credential"]["expires_on"] = "2099-12-31"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        offline_check(f"{header}.{forged}.{signature}", jwks)
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(BadSignatureError):
        offline_check(f"{header}.{payload}.{flipped}", jwks)


def test_only_a_verified_credential_is_attested(client, practitioner, submit, decide, monkeypatch):
    pending = submit(practitioner.headers, number="CMT-2001").get_json()["id"]
    rejected = submit(practitioner.headers, number="CMT-2002").get_json()["id"]
    decide(rejected, "reject", "Illegible scan")
    revoked = submit(practitioner.headers, number="CMT-2003").get_json()["id"]
    decide(revoked, "verify")
    decide(revoked, "revoke", "Board suspended the licence")
    soon = today_utc() + timedelta(days=1)
    lapsing = submit(practitioner.headers, number="CMT-2004", expires_on=soon.isoformat()).get_json()["id"]
    decide(lapsing, "verify")
    assert client.get(f"/api/v1/credentials/{lapsing}/attestation").status_code == 200

    for cid in (pending, rejected, revoked, 999_999):
        assert_404(client.get(f"/api/v1/credentials/{cid}/attestation"))
    later = soon + timedelta(days=1)
    monkeypatch.setattr(standing, "today_utc", lambda: later)
    assert_404(client.get(f"/api/v1/credentials/{lapsing}/attestation"))  # read as expired at once
    public.expire_due(today=later)  # and once written down
    assert_404(client.get(f"/api/v1/credentials/{lapsing}/attestation"))


@pytest.mark.parametrize("bad_id", ["0", "-1", "99999999999999999999", "2147483648", "abc", "1.5"])
def test_bad_ids_are_404(client, bad_id):
    assert_404(client.get(f"/api/v1/credentials/{bad_id}/attestation"))


def test_rotation_keeps_old_records_checkable(app, client, runner, verified):
    old = attest(client, verified)
    old_kid = b64json(old.split(".")[0])["kid"]

    result = runner.invoke(args=["directory", "rotate-signing-key"])
    assert result.exit_code == 0, result.output
    new_kid = result.output.strip()
    assert new_kid != old_kid

    jwks = published(client)
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid], "current first, old kept"
    assert offline_check(old, jwks).header["kid"] == old_kid
    new = attest(client, verified)
    assert offline_check(new, jwks).header["kid"] == new_kid
    # Each kid is its key's RFC 7638 thumbprint.
    assert {KeySet.import_key_set(jwks).get_by_kid(k).thumbprint() for k in (old_kid, new_kid)} == {
        old_kid,
        new_kid,
    }


def test_another_worker_sees_a_rotation(make_app, app, client, verified):
    first = offline_check(attest(client, verified), published(client)).header["kid"]
    other = make_app()  # same data dir: another worker
    with other.app_context():
        assert signing.current_key()[0] == first
        rotated = signing.rotate()
    assert offline_check(attest(client, verified), published(client)).header["kid"] == rotated


def test_the_key_file_is_private_and_not_under_static(app):
    kid, _ = signing.current_key()
    folder = signing.key_dir()
    key_file = folder / f"{kid}.jwk"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "current").read_text().strip() == kid
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{kid}.jwk", "current"])
    static = Path(app.static_folder).resolve()
    assert not key_file.resolve().is_relative_to(static)
    assert json.loads(key_file.read_text())["d"], "the private key is in the data dir"


def test_workers_starting_at_once_share_one_key(make_app):
    apps = [make_app() for _ in range(6)]
    barrier = threading.Barrier(len(apps))
    kids, errors = [], []

    def start(worker):
        try:
            with worker.app_context():
                barrier.wait()
                kids.append(signing.current_key()[0])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(kids)) == 1
    with apps[0].app_context():
        assert [p.name for p in signing.key_dir().glob("*.jwk")] == [f"{kids[0]}.jwk"]
        assert len(signing.public_jwks()["keys"]) == 1


def test_attestation_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/credentials/{credential_id}/attestation"]["get"]
    assert set(operation["responses"]) >= {"200", "404"}
