"""The audit chain: each event's hash covers the event and the hash before it, per credential, so
changing, removing or reordering any event breaks every hash after it. Events of the log itself
(credential_id None, such as a migration of the chains) form a chain of their own.

A hash covers a pseudonymous actor reference (`actor_ref`), never a name or an email, so deleting a
person later breaks nothing. What a chain cannot show alone, a cut at its newest end, a signed
checkpoint shows: the count of events and a running digest over every hash (checkpoints.py).
"""

import hashlib
import json
from collections.abc import Iterable
from types import SimpleNamespace

import sqlalchemy as sa

from directory.accounts.models import User
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import Data

GENESIS = "0" * 64
HASHED = (
    "credential_id",
    "from_status",
    "to_status",
    "actor_ref",
    "method",
    "reason",
    "evidence_sha256",
    "at",
    "prev_hash",
)


def event_hash(event: CredentialEvent | SimpleNamespace) -> str:
    """SHA-256 over the event's hashed fields (an event object, or anything with those attributes)."""
    body = {name: getattr(event, name) for name in HASHED}
    body["at"] = event.at.isoformat(timespec="microseconds")
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def actor_ref(user: User | None) -> str:
    return f"user:{user.audit_ref}" if user is not None else "system"


def last_hash(credential_id: int | None) -> str:
    found = db.session.scalar(
        sa.select(CredentialEvent.hash)
        .where(
            CredentialEvent.credential_id.is_(None)
            if credential_id is None
            else CredentialEvent.credential_id == credential_id
        )
        .order_by(CredentialEvent.id.desc())
        .limit(1)
    )
    return found or GENESIS


def last_hashes(credential_ids: Iterable[int]) -> dict[int, str]:
    """The head of each credential's chain, in one query (for the batch path)."""
    ids = list(credential_ids)
    heads = (
        sa.select(sa.func.max(CredentialEvent.id))
        .where(CredentialEvent.credential_id.in_(ids))
        .group_by(CredentialEvent.credential_id)
    )
    rows = db.session.execute(
        sa.select(CredentialEvent.credential_id, CredentialEvent.hash).where(CredentialEvent.id.in_(heads))
    )
    found = dict(rows.tuples().all())
    return {cid: found.get(cid, GENESIS) for cid in ids}


def fold(digest: str, hashes: Iterable[str]) -> str:
    """The running digest of a checkpoint, carried on over more event hashes (in id order)."""
    for value in hashes:
        digest = hashlib.sha256((digest + value).encode()).hexdigest()
    return digest


def verify_chain() -> Data:
    """Recompute every chain and replay every credential's status from its events.

    Returns {"events": n, "credentials": n, "broken": [first problem per chain]}."""
    broken: list[Data] = []
    broken_chains: set[int | None] = set()
    events = 0
    replayed: dict[int | None, str] = {}
    expected_prev: dict[int | None, str] = {}
    statement = (
        sa.select(CredentialEvent, User.audit_ref)
        .outerjoin(User, User.id == CredentialEvent.actor_id)
        .order_by(CredentialEvent.id)
        .execution_options(yield_per=2000)
    )
    for event, account_ref in db.session.execute(statement):
        events += 1
        cid = event.credential_id
        if cid in broken_chains:
            continue
        problem = None
        if event.prev_hash != expected_prev.get(cid, GENESIS):
            problem = "links to the wrong event"
        elif event_hash(event) != event.hash:
            problem = "its content was changed"
        elif account_ref is not None and event.actor_ref != f"user:{account_ref}":
            # The account shown as the actor is not the one the hash names.
            problem = "names another account than the one that acted"
        elif cid is not None and replayed.get(cid) != event.from_status:
            problem = f"starts from {event.from_status}, the chain was at {replayed.get(cid)}"
        if problem:
            broken.append({"event_id": event.id, "credential_id": cid, "problem": problem})
            broken_chains.add(cid)
        expected_prev[cid] = event.hash
        replayed[cid] = event.to_status
    credentials = 0
    for cid, status in db.session.execute(sa.select(Credential.id, Credential.status)):
        credentials += 1
        if replayed.get(cid) != status and cid not in broken_chains:
            broken.append(
                {
                    "event_id": None,
                    "credential_id": cid,
                    "problem": f"status {status} differs from its events' {replayed.get(cid)}",
                }
            )
    return {"events": events, "credentials": credentials, "broken": broken}
