"""The audit chain: each event's hash covers the event and the hash before it, per credential, so
changing, removing or reordering any event breaks every hash after it."""

import hashlib
import json

import sqlalchemy as sa

from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db

GENESIS = "0" * 64


def event_hash(event: CredentialEvent) -> str:
    body = {
        "credential_id": event.credential_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "actor_id": event.actor_id,
        "method": event.method,
        "reason": event.reason,
        "evidence_sha256": event.evidence_sha256,
        "at": event.at.isoformat(timespec="microseconds"),
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def last_hash(credential_id: int) -> str:
    found = db.session.scalar(
        sa.select(CredentialEvent.hash)
        .where(CredentialEvent.credential_id == credential_id)
        .order_by(CredentialEvent.id.desc())
        .limit(1)
    )
    return found or GENESIS


def verify_chain() -> dict:
    """Recompute every chain and replay every credential's status from its events.

    Returns {"events": n, "credentials": n, "broken": [first problem per credential]}."""
    broken: list[dict] = []
    events = 0
    replayed: dict[int, str] = {}
    expected_prev: dict[int, str] = {}
    for event in db.session.scalars(sa.select(CredentialEvent).order_by(CredentialEvent.id)).yield_per(2000):
        events += 1
        cid = event.credential_id
        if any(b["credential_id"] == cid for b in broken):
            continue
        prev = expected_prev.get(cid, GENESIS)
        if event.prev_hash != prev:
            broken.append({"event_id": event.id, "credential_id": cid, "problem": "links to the wrong event"})
        elif event_hash(event) != event.hash:
            broken.append({"event_id": event.id, "credential_id": cid, "problem": "its content was changed"})
        elif replayed.get(cid) != event.from_status:
            broken.append(
                {
                    "event_id": event.id,
                    "credential_id": cid,
                    "problem": f"starts from {event.from_status}, the chain was at {replayed.get(cid)}",
                }
            )
        expected_prev[cid] = event.hash
        replayed[cid] = event.to_status
    credentials = 0
    for cid, status in db.session.execute(sa.select(Credential.id, Credential.status)):
        credentials += 1
        if replayed.get(cid) != status and not any(b["credential_id"] == cid for b in broken):
            broken.append(
                {
                    "event_id": None,
                    "credential_id": cid,
                    "problem": f"status {status} differs from its events' {replayed.get(cid)}",
                }
            )
    return {"events": events, "credentials": credentials, "broken": broken}
