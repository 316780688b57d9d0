"""The one way a credential's status changes (the statuses are described in standing.py).

    submission  None → pending; contest: pending → contested (another account claims the number)
    verify      pending | contested | recheck | lapsed → verified; confirm: verified → verified (a re-check)
    reject      pending | contested → rejected
    revoke      verified | recheck | lapsed → revoked
    expire      verified → expired;  lapse: verified → lapsed;  recheck: verified → recheck
    resubmit    rejected | expired | lapsed | recheck → pending

Every change writes an audit event in the same transaction, hash-chained to the credential's
previous one. A verified credential past its expiry or its re-check grace reads as expired or lapsed at
once (standing.py); the first transition that meets one writes that down first, with actor "system",
so the events always replay to the status.

`transition()` moves one ORM credential; `transition_batch()` moves thousands (a roster import) with a
few statements per chunk, writing the same chained event for each.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from directory.accounts.models import User
from directory.credentials import audit, standing
from directory.credentials.models import Credential, CredentialEvent, Evidence, credential_techniques
from directory.extensions import affected, db, table_of
from directory.rules import Data, RuleError
from directory.search import outbox
from directory.timeutil import now_utc

# action → (statuses it may start from, status it leads to, method when none is given)
MOVES = {
    "submit": ((None,), "pending", "submission"),
    "contest": (("pending",), "contested", "contest"),
    "verify": (("pending", "contested", "recheck", "lapsed"), "verified", "document"),
    "confirm": (("verified",), "verified", "document"),
    "reject": (("pending", "contested"), "rejected", "document"),
    "revoke": (("verified", "recheck", "lapsed"), "revoked", "revocation"),
    "expire": (("verified",), "expired", "expiry"),
    "lapse": (("verified",), "lapsed", "grace"),
    "recheck": (("verified",), "recheck", "legal-name"),
    "resubmit": (("rejected", "expired", "lapsed", "recheck"), "pending", "submission"),
}
# What an admin decides (a verify of a verified credential is a re-check's confirmation).
DECISIONS = ("verify", "reject", "revoke")
# Nobody decides on a credential of their own, by page, API or roster.
JUDGEMENTS = ("verify", "confirm", "reject", "revoke")
NEEDS_REASON = ("reject", "revoke")
GRACE_REASON = "Not re-checked within 30 days of its due date."


@dataclass(frozen=True)
class Facts:
    """What the source (a roster row, the document as an admin read it) confirmed on a verification.
    A date is None where the source does not show one; techniques only from a decision form."""

    legal_name: str | None
    issued_on: date | None = None
    expires_on: date | None = None
    techniques: tuple[str, ...] | None = None


def transition(
    credential: Credential,
    action: str,
    actor: User | None,
    reason: str = "",
    method: str | None = None,
    facts: Facts | None = None,
) -> CredentialEvent:
    """Move the credential and record it. Does not commit: the caller's transaction holds both.
    RuleError 409 for a move the state machine forbids, 403 for an admin deciding their own."""
    if action not in MOVES:
        raise RuleError(422, f"Unknown action {action}.", field="action")
    allowed, target, default_method = MOVES[action]
    if actor is not None and action in JUDGEMENTS and _owns(actor, credential):
        raise RuleError(403, "You cannot decide on a credential of your own.")
    if action in NEEDS_REASON and not reason.strip():
        raise RuleError(
            422, "Give a reason: the practitioner and the audit trail will see it.", field="reason"
        )
    if action == "submit":
        if credential.id is not None:
            raise RuleError(409, "This credential was submitted already.")
        db.session.add(credential)
        db.session.flush()
        return _record(credential, None, target, actor, "", method or default_method)
    if action not in ("expire", "lapse"):
        settle(credential)
    if credential.status not in allowed:
        raise RuleError(409, f"A {credential.status} credential cannot be moved by {action}.", field="action")
    event = _record(credential, credential.status, target, actor, reason.strip(), method or default_method)
    if target == "verified":
        _apply_facts(credential, facts)
    return event


def settle(credential: Credential) -> None:
    """Write down an expiry or a lapsed re-check that has already happened on read (actor system), once."""
    if credential.id is None:
        return
    derived = standing.effective_status(credential)
    if derived == "expired" and credential.status != "expired":
        _record(credential, credential.status, "expired", None, "", "expiry")
    elif derived == "lapsed" and credential.status != "lapsed":
        _record(credential, credential.status, "lapsed", None, GRACE_REASON, "grace")


def _owns(actor: User, credential: Credential) -> bool:
    practitioner = credential.practitioner
    return practitioner is not None and practitioner.user_id == actor.id


def _record(
    credential: Credential, before: str | None, target: str, actor: User | None, reason: str, method: str
) -> CredentialEvent:
    now = now_utc()
    credential.status = target
    credential.reason = reason
    if target == "verified":
        credential.verified_at = credential.verified_at if before == "verified" else now
        credential.checked_at = now
        credential.method = method
    elif target in ("revoked", "expired", "lapsed", "recheck"):
        credential.method = method
    elif target == "pending":
        _forget_verification(credential)
    latest = credential.evidence[-1].sha256 if credential.evidence else ""
    row = _event_row(
        credential.id,
        before,
        target,
        _who(actor),
        method,
        reason,
        latest,
        now,
        audit.last_hash(credential.id),
    )
    event = CredentialEvent(**row)
    db.session.add(event)
    db.session.flush()
    return event


def _forget_verification(credential: Credential) -> None:
    """A claim going back to pending is judged afresh: nothing of the earlier verification stands."""
    credential.verified_at = credential.checked_at = credential.method = None
    credential.verified_legal_name = credential.source_issued_on = credential.source_expires_on = None
    if credential.id is not None:
        db.session.execute(
            sa.update(credential_techniques)
            .where(credential_techniques.c.credential_id == credential.id)
            .values(confirmed=False)
        )


def _apply_facts(credential: Credential, facts: Facts | None) -> None:
    if facts is None:
        return
    # A date the source does not show leaves the one an earlier check confirmed (none after pending).
    credential.verified_legal_name = facts.legal_name
    credential.source_issued_on = facts.issued_on or credential.source_issued_on
    credential.source_expires_on = facts.expires_on or credential.source_expires_on
    if facts.techniques is not None:
        claimed = {t.slug: t.id for t in credential.techniques}
        links = credential_techniques.c
        db.session.execute(
            sa.update(credential_techniques)
            .where(links.credential_id == credential.id)
            .values(confirmed=links.technique_id.in_([claimed[s] for s in facts.techniques if s in claimed]))
        )
        db.session.expire(credential, ["confirmed_techniques"])


# -- the batch path -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    """One credential of a batch, as the caller read it: the move fails if it changed since."""

    credential_id: int
    status: str
    version: int
    practitioner_id: int
    practitioner_user_id: int
    facts: Facts | None = None
    reason: str = ""
    extra: Data = field(default_factory=dict)


def transition_batch(items: list[BatchItem], action: str, actor: User | None, method: str) -> None:
    """Move every item by `action` with one chained event each, a few statements in all. Does not
    commit. RuleError 409 when any credential changed since it was read (nothing of it is kept once
    the caller rolls back), 403 for an actor's own credential."""
    if not items:
        return
    allowed, target, _ = MOVES[action]
    if any(item.status not in allowed for item in items):
        raise RuleError(409, f"Only {', '.join(map(str, allowed))} credentials can be moved by {action}.")
    if actor is not None and action in JUDGEMENTS and any(i.practitioner_user_id == actor.id for i in items):
        raise RuleError(403, "You cannot decide on a credential of your own.")
    ids = [item.credential_id for item in items]
    heads, evidence = audit.last_hashes(ids), _latest_evidence(ids)
    now, who = now_utc(), _who(actor)
    events, updates = [], []
    for item in items:
        cid = item.credential_id
        events.append(
            _event_row(
                cid, item.status, target, who, method, item.reason, evidence.get(cid, ""), now, heads[cid]
            )
        )
        updates.append(_batch_values(item, target, method, now))
    table = table_of(Credential)
    values: dict[str, Any] = {
        name: sa.bindparam(f"v_{name}") for name in updates[0] if not name.startswith("b_")
    }
    for name in ("source_issued_on", "source_expires_on"):
        if name in values:  # as in _apply_facts: what the source does not show stays as confirmed before
            values[name] = sa.func.coalesce(sa.bindparam(f"v_{name}", type_=sa.Date), table.c[name])
    statement = (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("b_id"),
            table.c.version == sa.bindparam("b_version"),
            table.c.status == sa.bindparam("b_status"),
        )
        .values({**values, "version": table.c.version + 1})
    )
    changed = affected(
        statement, [{k if k.startswith("b_") else f"v_{k}": v for k, v in u.items()} for u in updates]
    )
    if changed != len(updates):
        raise RuleError(409, "A credential changed while the batch was being applied.")
    db.session.execute(sa.insert(table_of(CredentialEvent)), events)
    outbox.write_rows(db.session.connection(), sorted({item.practitioner_id for item in items}))


def _batch_values(item: BatchItem, target: str, method: str, now: datetime) -> Data:
    values = {
        "b_id": item.credential_id,
        "b_version": item.version,
        "b_status": item.status,
        "status": target,
        "method": method,
        "reason": item.reason,
        "updated_at": now,
    }
    if target == "verified":
        facts = item.facts
        if facts is None:
            raise ValueError("a batch verification states the facts the source confirmed")
        values.update(
            checked_at=now,
            verified_legal_name=facts.legal_name,
            source_issued_on=facts.issued_on,
            source_expires_on=facts.expires_on,
        )
        if item.status != "verified":
            values["verified_at"] = now
    return values


@dataclass(frozen=True)
class Step:
    """One move of a credential inserted in bulk (demo data): the event it leaves."""

    from_status: str | None
    to_status: str
    method: str
    at: datetime
    actor: str = "system"
    actor_ref: str = "system"
    reason: str = ""


def history_rows(credential_id: int, steps: list[Step]) -> list[Data]:
    """The chained audit rows of a credential inserted with its whole history at once, each move one
    of MOVES and starting where the one before ended, hashed exactly as transition() would."""
    rows, prev, status = [], audit.GENESIS, None
    for step in steps:
        if step.from_status != status or not any(
            step.from_status in allowed and step.to_status == target for allowed, target, _ in MOVES.values()
        ):
            raise ValueError(
                f"no move from {step.from_status} to {step.to_status} (the history is at {status})"
            )
        who = (None, step.actor, step.actor_ref)
        row = _event_row(
            credential_id, step.from_status, step.to_status, who, step.method, step.reason, "", step.at, prev
        )
        rows.append(row)
        prev, status = row["hash"], step.to_status
    return rows


def _who(actor: User | None) -> tuple[int | None, str, str]:
    """(actor_id, actor, actor_ref) of an event: the account that acted, or the system."""
    return (actor.id if actor else None, actor.email if actor else "system", audit.actor_ref(actor))


def _event_row(
    credential_id: int,
    before: str | None,
    target: str,
    who: tuple[int | None, str, str],
    method: str,
    reason: str,
    evidence: str,
    at: datetime,
    prev_hash: str,
) -> Data:
    """One audit event's columns, hash included: the one place an event is put together, whether
    transition() adds it as an object or the batch and bulk paths insert it as a row."""
    actor_id, actor, ref = who
    row = {
        "credential_id": credential_id,
        "from_status": before,
        "to_status": target,
        "actor_id": actor_id,
        "actor": actor,
        "actor_ref": ref,
        "method": method,
        "reason": reason,
        "evidence_sha256": evidence,
        "at": at,
        "prev_hash": prev_hash,
    }
    row["hash"] = audit.event_hash(SimpleNamespace(**row))
    return row


def _latest_evidence(ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(
        sa.select(Evidence.credential_id, Evidence.sha256)
        .where(Evidence.credential_id.in_(ids))
        .order_by(Evidence.credential_id, Evidence.version)
    )
    return dict(rows.tuples().all())  # the last version of each wins
