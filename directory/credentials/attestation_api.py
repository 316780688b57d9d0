"""Signed records of a verified credential, their online status, and the keys to check them."""

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import jsonify

from directory.apibase import Blueprint
from directory.credentials import attestations, signing
from directory.extensions import limiter

blp = Blueprint("attestation_api", __name__, url_prefix="/api/v1", description="Signed credential records")
wellknown = FlaskBlueprint("wellknown", __name__)

JWKS_MAX_AGE = 300
# Every record is a row: a stranger asking in a loop is slowed down long before it costs anything.
RECORDS_PER_ADDRESS = "60 per minute"


class AttestationSchema(ma.Schema):
    jws = ma.fields.String(
        required=True,
        metadata={
            "description": "Compact JWS, header {alg: EdDSA, kid, typ: JWT}; check it with the key of that "
            "kid in /.well-known/jwks.json"
        },
    )


class RecordStatusSchema(ma.Schema):
    jti = ma.fields.String()
    good = ma.fields.Boolean(metadata={"description": "True while the record still holds"})
    status = ma.fields.String(
        metadata={
            "description": "good; expired (past its exp); superseded (verified again, or under another legal "
            "name, since); or the credential's status now: revoked, lapsed, recheck, expired"
        }
    )
    credential_id = ma.fields.Integer()
    credential_status = ma.fields.String()
    issued_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    checked_at = ma.fields.AwareDateTime()


@blp.route("/credentials/<id:credential_id>/attestation")
@limiter.limit(RECORDS_PER_ADDRESS)
@blp.response(200, AttestationSchema)
@blp.alt_response(
    404,
    description="No such credential, or it is not verified now (pending, contested, rejected, sent back, "
    "lapsed, revoked, expired)",
)
def attestation(credential_id):
    """A signed record of a verified credential, checkable offline with the directory's JWKS.

    The payload (a JWT claims set) is `{iss, sub: "credential:<id>", iat, exp, jti, credential: {id,
    issuer: {slug, name}, kind, title, number, status, method, verified_at, issued_on, expires_on,
    expires_on_verified, next_check_due, techniques}, holder: {practitioner_id, legal_name}}`. `exp` is
    at most 30 days on and never past the end of the badge; before that, ask
    `/api/v1/attestations/<jti>` whether it still holds. `issued_on` is null unless the source showed it,
    `techniques` lists only those an admin confirmed.
    """
    return {"jws": attestations.issue(credential_id)}, {"Cache-Control": "no-store"}


@blp.route("/attestations/<string(length=22):jti>")
@blp.response(200, RecordStatusSchema)
@blp.alt_response(404, description="This site issued no record with that jti")
def record_status(jti):
    """Whether a signed record (by its `jti`) still holds: the online check beside the offline one."""
    return attestations.status(jti), {"Cache-Control": "no-store"}


@wellknown.route("/.well-known/jwks.json")
def jwks():
    """The public keys that sign records and checkpoints: the current one and every earlier one,
    retired ones marked with `retired_at`."""
    response = jsonify(signing.public_jwks())
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response
