"""An admin's decisions: verify (or confirm at a re-check), reject, revoke; and settling a contest.

A verification compares the claim with the holder's legal name and records what the document shows:
its dates where it shows them, and for a training-program certificate each technique the admin
confirmed. Verifying a contested claim decides the contest: the number goes to this account, and
every rival claim is rejected (or revoked, if it held the number), in the same transaction.
"""

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from directory.accounts.models import User
from directory.credentials import lifecycle, service, standing
from directory.credentials.models import Credential
from directory.credentials.queues import RECHECK_AHEAD
from directory.extensions import db
from directory.logs import security_event
from directory.rules import Data, RuleError
from directory.timeutil import today_utc

AWARDED = "An admin found that another account holds this number."
NO_LEGAL_NAME = (
    "The practitioner has not given their legal name, which the document must be compared with. "
    "Ask them to add it on their credentials page."
)


def decide(admin: User, credential_id: int, data: Data) -> Credential:
    """`data` as DecisionSchema loads it. Two admins deciding at once: one wins, the other gets 409."""
    action = data["action"]
    if action not in lifecycle.DECISIONS:
        raise RuleError(422, "The action is verify, reject or revoke.", field="action")
    credential = service.get(credential_id)
    try:
        if action == "verify":
            _verify(admin, credential, data)
        else:
            if data.get("techniques") or data.get("issued_on") or data.get("expires_on"):
                raise RuleError(422, "Dates and techniques are confirmed by a verification only.")
            lifecycle.transition(credential, action, admin, data.get("reason", ""))
        db.session.commit()
    except (StaleDataError, sa.exc.IntegrityError) as exc:
        db.session.rollback()
        raise RuleError(
            409, "Someone decided on this credential at the same moment; reload and look again."
        ) from exc
    except RuleError:
        db.session.rollback()
        raise
    security_event(
        "credential.decision", credential_id=credential.id, action=action, new_status=credential.status
    )
    return credential


def _verify(admin: User, credential: Credential, data: Data) -> None:
    legal_name = credential.practitioner.legal_name
    if not legal_name:
        raise RuleError(409, NO_LEGAL_NAME)
    techniques = data.get("techniques")
    if techniques is not None:
        if credential.issuer.kind != "training-program":
            raise RuleError(
                422, "Only a training-program certificate's techniques are confirmed.", field="techniques"
            )
        claimed = {t.slug for t in credential.techniques}
        unclaimed = sorted(set(techniques) - claimed)
        if unclaimed:
            raise RuleError(
                422, f"Not claimed on this certificate: {', '.join(unclaimed)}.", field="techniques"
            )
    facts = lifecycle.Facts(
        legal_name=legal_name,
        issued_on=data.get("issued_on"),
        expires_on=data.get("expires_on"),
        techniques=tuple(techniques) if techniques is not None else None,
    )
    lifecycle.settle(credential)
    if credential.status == "verified":
        due = standing.next_check_due(credential)
        if due is None or due > today_utc() + RECHECK_AHEAD:
            raise RuleError(
                409,
                f"This credential is verified already; its re-check is due on {due}. "
                "It can be confirmed from 30 days before then.",
                field="action",
            )
        lifecycle.transition(credential, "confirm", admin, data.get("reason", ""), "document", facts)
        return
    rivals = [c for c in _rivals(credential) if c.id != credential.id]
    if rivals and credential.status != "contested":
        raise RuleError(409, "Another account claims this number: decide the contest from a contested claim.")
    for rival in rivals:
        if rival.practitioner is not None and rival.practitioner.user_id == admin.id:
            raise RuleError(403, "You cannot decide a contest over a credential of your own.")
        lifecycle.settle(rival)  # a holder whose badge already ended on read: expired, nothing to revoke
        if rival.status in standing.HELD:
            lifecycle.transition(rival, "revoke", admin, AWARDED)
        elif rival.status in standing.UNDECIDED:
            lifecycle.transition(rival, "reject", admin, AWARDED)
    lifecycle.transition(credential, "verify", admin, data.get("reason", ""), "document", facts)


def _rivals(credential: Credential) -> list[Credential]:
    if credential.number_key is None:
        return []
    return service.claims_of_number(credential.issuer_id, credential.number_key)


def rivals_of(credential: Credential) -> list[Credential]:
    """Every active claim of the same issuer and number, this one included (for the side-by-side view)."""
    return _rivals(credential) or [credential]


def next_pending(after: Credential, status: str = "pending") -> Credential | None:
    """The claim an admin takes up next: the oldest undecided one after this one in queue order,
    else the oldest of all."""
    statuses = standing.UNDECIDED if status in standing.UNDECIDED else (status,)
    base = sa.select(Credential).where(Credential.status.in_(statuses), Credential.id != after.id)
    later = base.where(
        sa.or_(
            Credential.created_at > after.created_at,
            sa.and_(Credential.created_at == after.created_at, Credential.id > after.id),
        )
    )
    order = (Credential.created_at, Credential.id)
    return db.session.scalar(later.order_by(*order).limit(1)) or db.session.scalar(
        base.order_by(*order).limit(1)
    )
