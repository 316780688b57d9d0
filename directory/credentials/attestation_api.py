"""Signed records of a credential's verified state, and the public keys to check them (signing.py)."""

import time

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import current_app, jsonify, request

from directory.apibase import Blueprint
from directory.credentials import service, signing
from directory.credentials.lifecycle import effective_status
from directory.credentials.models import Credential
from directory.extensions import db
from directory.rules import RuleError

blp = Blueprint("attestation_api", __name__, url_prefix="/api/v1", description="Signed credential records")
wellknown = FlaskBlueprint("wellknown", __name__)

JWKS_MAX_AGE = 300


class AttestationSchema(ma.Schema):
    jws = ma.fields.String(
        required=True,
        metadata={
            "description": "Compact JWS, header {alg: EdDSA, kid, typ: JWT}; check it with the key of that "
            "kid in /.well-known/jwks.json"
        },
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def attestation_payload(c: Credential, iss: str, iat: int) -> dict:
    """What a record states: the credential as verified now, its issuer and its holder."""
    return {
        "iss": iss,
        "sub": f"credential:{c.id}",
        "iat": iat,
        "credential": {
            "id": c.id,
            "issuer": {"slug": c.issuer.slug, "name": c.issuer.name},
            "kind": c.kind,
            "title": c.title,
            "number": c.number,
            "status": effective_status(c),
            "method": c.method,
            "verified_at": _iso(c.verified_at),
            "expires_on": _iso(c.expires_on),
            "next_check_due": _iso(service.next_check_due(c)),
        },
        "holder": {"practitioner_id": c.practitioner_id, "display_name": c.practitioner.display_name},
    }


def _site_url() -> str:
    return (current_app.config.get("SITE_URL") or request.url_root).rstrip("/")


@blp.route("/credentials/<id:credential_id>/attestation")
@blp.response(200, AttestationSchema)
@blp.alt_response(
    404, description="No such credential, or it is not verified now (pending, rejected, revoked, expired)"
)
def attestation(credential_id):
    """A signed record of a verified credential, checkable offline with the directory's JWKS.

    The payload (a JWT claims set) is `{iss, sub: "credential:<id>", iat, credential: {id, issuer: {slug,
    name}, kind, title, number, status, method, verified_at, expires_on, next_check_due}, holder:
    {practitioner_id, display_name}}`. It states the status at `iat`; fetch a new one to know it now.
    """
    c = db.session.get(Credential, credential_id)
    if c is None or effective_status(c) != "verified":
        raise RuleError(404, "No verified credential with that id.")
    token = signing.sign(attestation_payload(c, _site_url(), int(time.time())))
    return {"jws": token}, {"Cache-Control": "no-store"}


@wellknown.route("/.well-known/jwks.json")
def jwks():
    """The public keys that sign attestations: the current one and every earlier one."""
    response = jsonify(signing.public_jwks())
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response
