"""Signed records of a verified credential that say when they stop, and whether one still holds.

A record is a compact JWS (signing.py) whose claims are `iss` (the configured site address), `sub`,
`iat`, `exp`, `jti`, the credential as verified and its holder with the legal name the source matched.
`exp` is at most RECORD_DAYS after issue and never past the end of the credential's re-check grace or
its expiry, so a kept record dies on its own. Before that, anyone may ask about its `jti` online: it
is good while the credential is still verified on the same verification (no revocation, lapse,
re-check, new legal name or new verification since).
"""

import secrets
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from directory.config import site_url
from directory.credentials import signing, standing
from directory.credentials.models import Attestation, Credential
from directory.extensions import affected, db
from directory.rules import Data, RuleError
from directory.timeutil import now_utc

RECORD_DAYS = 30
JTI_BYTES = 16


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _expiry(c: Credential, issued: datetime) -> datetime:
    last_day = standing.badge_until(c)
    cap = issued + timedelta(days=RECORD_DAYS)
    if last_day is None or last_day.year >= 9999:
        return cap
    return min(cap, datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC))


def payload(c: Credential, jti: str, issued: datetime, expires: datetime) -> Data:
    """What a record states: the credential as verified, its issuer and its holder."""
    return {
        "iss": site_url(current_app),
        "sub": f"credential:{c.id}",
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": jti,
        "credential": {
            "id": c.id,
            "issuer": {"slug": c.issuer.slug, "name": c.issuer.name},
            "kind": c.kind,
            "title": c.title,
            "number": c.number,
            "number_key": c.number_key,
            "status": standing.effective_status(c),
            "method": c.method,
            "verified_at": _iso(c.verified_at),
            "issued_on": _iso(c.source_issued_on),
            "expires_on": _iso(c.ends_on),
            "expires_on_verified": c.source_expires_on is not None,
            "next_check_due": _iso(standing.next_check_due(c)),
            "techniques": [t.slug for t in c.confirmed_techniques],
        },
        "holder": {"practitioner_id": c.practitioner_id, "legal_name": c.verified_legal_name},
    }


def issue(credential_id: int) -> str:
    """A new signed record of a credential that is verified now (404 otherwise), kept by its jti."""
    c = db.session.get(Credential, credential_id)
    if c is None or not standing.is_live(c):
        raise RuleError(404, "No verified credential with that id.")
    issued = now_utc().replace(microsecond=0)
    expires = _expiry(c, issued)
    jti = secrets.token_urlsafe(JTI_BYTES)
    db.session.add(
        Attestation(
            jti=jti,
            credential_id=c.id,
            verified_at=c.verified_at,
            legal_name=c.verified_legal_name,
            issued_at=issued,
            expires_at=expires,
        )
    )
    token = signing.sign(payload(c, jti, issued, expires))
    db.session.commit()
    return token


def status(jti: str) -> Data:
    """Whether the record `jti` still holds, and if not, why; 404 for a jti this site never issued."""
    record = db.session.get(Attestation, jti)
    if record is None:
        raise RuleError(404, "This site issued no record with that jti.")
    c = db.session.get_one(Credential, record.credential_id)
    now = now_utc()
    state = standing.effective_status(c)
    if now >= record.expires_at:
        reason = "expired"
    elif state != "verified":
        reason = state  # revoked, lapsed, expired, recheck …
    elif c.verified_at != record.verified_at or c.verified_legal_name != record.legal_name:
        reason = "superseded"
    else:
        reason = "good"
    return {
        "jti": jti,
        "good": reason == "good",
        "status": reason,
        "credential_id": c.id,
        "credential_status": standing.public_status(c),
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "checked_at": now,
    }


def prune(before: datetime | None = None) -> int:
    """Forget records past their `exp` (they no longer verify offline either); returns how many."""
    pruned = affected(
        sa.delete(Attestation).where(Attestation.expires_at < (before or now_utc()) - timedelta(days=1))
    )
    db.session.commit()
    return pruned
