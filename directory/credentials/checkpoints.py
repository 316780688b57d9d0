"""Signed checkpoints of the audit log, so that a log cut short cannot pass unnoticed.

Each event's hash chains to the one before it on the same credential, which catches an edit but not
the newest event deleted together with a matching status edit. A checkpoint states how long the whole
log was: the count of events up to the newest id, that event's hash, and a running SHA-256 over every
event hash in id order (audit.fold), signed with the site's key. It is published at
`/api/v1/audit/checkpoint` after every roster import and by `flask --app wsgi directory checkpoint`
(hourly, by cron or the indexer's loop). Anyone who keeps one can later run
`audit-verify --checkpoint FILE|URL`: a log shorter than, or different from, what was signed fails.

Each checkpoint carries the digest on from the previous one, so publishing costs the events since.
On PostgreSQL the table is locked in SHARE mode while the head is read, so no transaction still
holding a smaller event id can commit after the checkpoint and make an honest log look altered.
"""

import json
import time
import urllib.request
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from directory.config import site_url
from directory.credentials import audit, signing
from directory.credentials.models import AuditCheckpoint, CredentialEvent
from directory.extensions import db
from directory.rules import Data
from directory.timeutil import now_utc

TYPE = "audit-checkpoint"
EVERY = timedelta(hours=1)
FETCH_TIMEOUT_SECONDS = 10
MAX_DOCUMENT_BYTES = 64 * 1024


def latest() -> AuditCheckpoint | None:
    return db.session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def _hashes_after(after_id: int, upto: int | None = None) -> sa.Result[tuple[int, str]]:
    statement = sa.select(CredentialEvent.id, CredentialEvent.hash).where(CredentialEvent.id > after_id)
    if upto is not None:
        statement = statement.where(CredentialEvent.id <= upto)
    return db.session.execute(statement.order_by(CredentialEvent.id).execution_options(yield_per=5000))


def publish() -> AuditCheckpoint:
    """A new checkpoint of the log as it stands (the latest one again when nothing happened since)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE credential_events IN SHARE MODE"))
    previous = latest()
    count = previous.event_count if previous else 0
    last_id = previous.last_event_id if previous else 0
    last_hash = previous.last_hash if previous else audit.GENESIS
    digest = previous.digest if previous else audit.GENESIS
    for event_id, value in _hashes_after(last_id):
        count, last_id, last_hash = count + 1, event_id, value
        digest = audit.fold(digest, (value,))
    if previous is not None and previous.last_event_id == last_id:
        db.session.commit()
        return previous
    at = now_utc()
    claims = {
        "iss": site_url(current_app),
        "typ": TYPE,
        "iat": int(at.timestamp()),
        "count": count,
        "last_event_id": last_id,
        "last_hash": last_hash,
        "digest": digest,
    }
    checkpoint = AuditCheckpoint(
        last_event_id=last_id,
        event_count=count,
        last_hash=last_hash,
        digest=digest,
        created_at=at,
        jws=signing.sign(claims),
    )
    db.session.add(checkpoint)
    db.session.commit()
    return checkpoint


def publish_if_due(every: timedelta = EVERY) -> AuditCheckpoint | None:
    """For a loop on every node: only when the newest checkpoint is older than `every`."""
    newest = latest()
    if newest is not None and now_utc() - newest.created_at < every:
        return None
    return publish()


def document(checkpoint: AuditCheckpoint) -> Data:
    """What the public URL serves: the signed JWS and, for reading, its claims."""
    return {
        "jws": checkpoint.jws,
        "count": checkpoint.event_count,
        "last_event_id": checkpoint.last_event_id,
        "last_hash": checkpoint.last_hash,
        "digest": checkpoint.digest,
        "created_at": checkpoint.created_at,
    }


def load(source: str) -> str:
    """The JWS from a kept file or a URL: the JSON the public URL serves, or the JWS alone."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310: http(s) only, checked above
            text: str = response.read(MAX_DOCUMENT_BYTES + 1).decode()
    else:
        with open(source, encoding="utf-8") as fh:
            text = str(fh.read(MAX_DOCUMENT_BYTES + 1))
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ValueError("that is not a checkpoint: it is far too long")
    text = text.strip()
    if text.startswith("{"):
        return str(json.loads(text)["jws"]).strip()
    return text


def check(token: str) -> Data:
    """Compare the log with a kept checkpoint. Returns {"claims", "problems": [sentences]}."""
    started = time.perf_counter()
    claims = signing.verify(token)
    if claims.get("typ") != TYPE:
        raise ValueError("that signed record is not an audit checkpoint")
    problems = []
    count, digest, head = 0, audit.GENESIS, None
    for event_id, value in _hashes_after(0, upto=claims["last_event_id"]):
        count += 1
        digest = audit.fold(digest, (value,))
        head = (event_id, value)
    if count < claims["count"]:
        problems.append(
            f"The log holds {count} events up to event {claims['last_event_id']}; the checkpoint signed "
            f"{claims['count']}: {claims['count'] - count} are missing."
        )
    elif count > claims["count"]:
        problems.append(f"The log holds {count - claims['count']} more events than the checkpoint signed.")
    if head is None or head[0] != claims["last_event_id"]:
        problems.append(f"Event {claims['last_event_id']}, the newest the checkpoint signed, is gone.")
    elif head[1] != claims["last_hash"]:
        problems.append(f"Event {claims['last_event_id']} is not the event the checkpoint signed.")
    if not problems and digest != claims["digest"]:
        problems.append("The events up to the checkpoint are not the ones it signed (the digest differs).")
    return {"claims": claims, "problems": problems, "seconds": round(time.perf_counter() - started, 3)}
