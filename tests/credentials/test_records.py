"""Signed records that say when they stop, an online status per jti, keys that retire, and one switch."""

import base64
import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.errors import ExpiredTokenError

from directory import create_app
from directory.credentials import signing
from tests.credentials.roster_kit import offline_check, verify_by_document
from tests.factories import attest


def claims_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def status(client, token):
    return client.get(f"/api/v1/attestations/{claims_of(token)['jti']}").get_json()


@pytest.fixture
def verified(client, practitioner, admin, submit):
    cid = submit(practitioner.headers, expires_on="2040-01-01").get_json()["id"]
    verify_by_document(client, admin, cid)
    return cid


def test_a_record_lives_thirty_days_at_most(client, verified):
    claims = claims_of(attest(client, verified))
    assert claims["exp"] - claims["iat"] == 30 * 86400


def test_a_record_never_outlives_the_badge(client, practitioner, admin, submit, clock):
    soon = (clock.today() + timedelta(days=9)).isoformat()
    cid = submit(practitioner.headers, number="CMT-2002", expires_on=soon).get_json()["id"]
    verify_by_document(client, admin, cid)

    claims = claims_of(attest(client, cid))

    ends = claims_of(attest(client, cid))["exp"]
    assert ends == claims["exp"]
    from datetime import UTC, date, datetime

    assert datetime.fromtimestamp(ends, UTC) == datetime.combine(
        date.fromisoformat(soon) + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )


def test_a_record_near_its_re_check_grace_ends_with_the_grace(client, verified, clock):
    clock.advance(days=380)  # the re-check was due 15 days ago: 15 days of grace are left
    claims = claims_of(attest(client, verified))
    assert claims["exp"] - claims["iat"] < 16 * 86400


def test_the_status_check_follows_the_credential(client, verified, admin, clock):
    token = attest(client, verified)
    first = status(client, token)
    assert (first["good"], first["status"], first["credential_id"]) == (True, "good", verified)

    client.post(
        f"/api/v1/admin/credentials/{verified}/decision",
        json={"action": "revoke", "reason": "Board suspended it"},
        headers=admin.headers,
    )
    revoked = status(client, token)
    assert (revoked["good"], revoked["status"], revoked["credential_status"]) == (False, "revoked", "revoked")


def test_a_kept_record_past_its_exp_is_expired_online_too(client, verified, clock):
    token = attest(client, verified)
    clock.advance(days=31)
    assert status(client, token)["status"] == "expired"
    # And offline: a JWT library refuses it by its exp, on the day a verifier checks it.
    decoded = offline_check(token, client.get("/.well-known/jwks.json").get_json())
    registry = jwt.JWTClaimsRegistry(now=int(clock.now().timestamp()), exp={"essential": True})
    with pytest.raises(ExpiredTokenError):
        registry.validate(decoded.claims)


@pytest.mark.parametrize("jti", ["x" * 22, "AAAAAAAAAAAAAAAAAAAAAA"])
def test_an_unknown_jti_is_404(client, jti):
    response = client.get(f"/api/v1/attestations/{jti}")
    assert response.status_code == 404 and response.get_json()["code"] == 404


@pytest.mark.parametrize("jti", ["short", "x" * 23, "x" * 500, "..%2f..%2fetc"])
def test_a_malformed_jti_is_404(client, jti):
    assert client.get(f"/api/v1/attestations/{jti}").status_code == 404


def test_iss_comes_from_configuration_never_from_the_request(client, verified):
    token = client.get(
        f"/api/v1/credentials/{verified}/attestation", headers={"Host": "evil.example"}
    ).get_json()["jws"]
    assert claims_of(token)["iss"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("env", "site", "problem"),
    [
        ("production", None, "needs DIRECTORY_SITE_URL"),
        ("staging", "https://d.example", "must be development or production"),
    ],
)
def test_the_one_switch_refuses_a_production_without_a_site_address(
    tmp_path, monkeypatch, env, site, problem
):
    monkeypatch.setenv("DIRECTORY_ENV", env)
    monkeypatch.delenv("DIRECTORY_SITE_URL", raising=False)
    if site:
        monkeypatch.setenv("DIRECTORY_SITE_URL", site)
    with pytest.raises(RuntimeError, match=problem):
        create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_with_a_site_address_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECTORY_ENV", "production")
    monkeypatch.setenv("DIRECTORY_SITE_URL", "https://directory.example/")
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SITE_URL"] == "https://directory.example"


def test_a_retired_key_signs_no_more_and_stays_published(client, runner, verified):
    old = attest(client, verified)
    old_kid = json.loads(base64.urlsafe_b64decode(old.split(".")[0] + "=="))["kid"]

    refused = runner.invoke(args=["directory", "retire-signing-key", old_kid])
    assert refused.exit_code != 0 and "rotate to a new key first" in refused.output
    new_kid = runner.invoke(args=["directory", "rotate-signing-key"]).output.strip()
    done = runner.invoke(args=["directory", "retire-signing-key", old_kid])
    assert done.exit_code == 0, done.output

    jwks = client.get("/.well-known/jwks.json").get_json()
    marks = {k["kid"]: k.get("retired_at") for k in jwks["keys"]}
    assert marks[new_kid] is None and marks[old_kid]
    assert offline_check(old, jwks).claims["sub"]
    assert (
        json.loads(base64.urlsafe_b64decode(attest(client, verified).split(".")[0] + "=="))["kid"] == new_kid
    )
    assert signing.verify(old)["jti"] == claims_of(old)["jti"]
    unknown = runner.invoke(args=["directory", "retire-signing-key", "nope"])
    assert unknown.exit_code != 0 and "No signing key nope" in unknown.output


def test_a_record_for_a_credential_sent_back_is_refused(client, practitioner, verified):
    client.put("/api/v1/me/legal-name", json={"legal_name": "Casey Jordan"}, headers=practitioner.headers)
    assert client.get(f"/api/v1/credentials/{verified}/attestation").status_code == 404


def test_forged_records_do_not_pass_the_site_s_own_check(client, verified):
    token = attest(client, verified)
    header, payload, signature = token.split(".")
    body = claims_of(token)
    body["holder"]["legal_name"] = "Someone Else"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="not a record signed by this site"):
        signing.verify(f"{header}.{forged}.{signature}")
    with pytest.raises(ValueError):
        signing.verify("not.a.jws")
