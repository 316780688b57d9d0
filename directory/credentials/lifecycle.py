"""The one way a credential's status changes (DESIGN.md, "Credential lifecycle").

    pending  → verified | rejected
    verified → revoked  | expired
    rejected, expired → pending (a resubmission)

Every change writes an audit event in the same transaction. A verified credential past its
`expires_on` reads as expired at once (effective_status); the first transition that meets one
writes that expiry down first, with actor "system", so the events always replay to the status.
"""

from datetime import date

from directory.accounts.models import User
from directory.credentials import audit
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import RuleError
from directory.timeutil import now_utc, today_utc

# action → (statuses it may start from, status it leads to, method when none is given)
MOVES = {
    "submit": ((None,), "pending", "submission"),
    "verify": (("pending",), "verified", "document"),
    "reject": (("pending",), "rejected", "document"),
    "revoke": (("verified",), "revoked", "revocation"),
    "expire": (("verified",), "expired", "expiry"),
    "resubmit": (("rejected", "expired"), "pending", "submission"),
}
DECISIONS = ("verify", "reject", "revoke")
NEEDS_REASON = ("reject", "revoke")


def effective_status(credential: Credential, today: date | None = None) -> str:
    if (
        credential.status == "verified"
        and credential.expires_on
        and credential.expires_on < (today or today_utc())
    ):
        return "expired"
    return credential.status


def is_live(credential: Credential, today: date | None = None) -> bool:
    return effective_status(credential, today) == "verified"


def transition(
    credential: Credential,
    action: str,
    actor: User | None,
    reason: str = "",
    method: str | None = None,
) -> CredentialEvent:
    """Move the credential and record it. Does not commit: the caller's transaction holds both.
    RuleError 409 for a move the state machine forbids, 403 for an admin deciding their own."""
    if action not in MOVES:
        raise RuleError(422, f"Unknown action {action}.", field="action")
    allowed, target, default_method = MOVES[action]
    if actor is not None and action in DECISIONS and _owns(actor, credential):
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
    if action != "expire":
        settle_expiry(credential)
    if credential.status not in allowed:
        raise RuleError(409, f"A {credential.status} credential cannot be moved by {action}.", field="action")
    return _record(credential, credential.status, target, actor, reason.strip(), method or default_method)


def settle_expiry(credential: Credential) -> None:
    """Write down an expiry that has already happened on read (actor system), once."""
    if credential.id is not None and effective_status(credential) != credential.status:
        _record(credential, credential.status, "expired", None, "", "expiry")


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
        credential.verified_at = now
        credential.method = method
    elif target in ("revoked", "expired"):
        credential.method = method
    elif target == "pending":
        credential.verified_at = None
        credential.method = None
    latest = credential.evidence[-1].sha256 if credential.evidence else ""
    event = CredentialEvent(
        credential_id=credential.id,
        from_status=before,
        to_status=target,
        actor_id=actor.id if actor else None,
        actor=actor.email if actor else "system",
        method=method,
        reason=reason,
        evidence_sha256=latest,
        at=now,
        prev_hash=audit.last_hash(credential.id),
    )
    event.hash = audit.event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event
