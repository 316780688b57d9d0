"""Credential rules: submitting, resubmitting, deciding, looking up, expiring."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from directory.accounts.models import User
from directory.catalog import service as catalog
from directory.catalog.models import Issuer, Technique
from directory.credentials import evidence, lifecycle
from directory.credentials.models import Credential, CredentialEvent, Evidence
from directory.extensions import db
from directory.logs import security_event
from directory.practitioners import service as practitioners
from directory.practitioners.models import Practitioner
from directory.rules import RuleError
from directory.timeutil import today_utc

CHECK_EVERY = timedelta(days=365)


def _issuer(slug: str) -> Issuer:
    issuer = db.session.scalar(sa.select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise RuleError(422, f"Unknown issuer {slug}. See /api/v1/issuers.", field="issuer")
    return issuer


def submit(user: User, data: dict, upload) -> Credential:
    """A new claim with its evidence; pending until an admin or a roster decides."""
    practitioner = practitioners.require_profile(user)
    issuer = _issuer(data["issuer"])
    if data.get("techniques") and issuer.kind != "training-program":
        raise RuleError(
            422, "Only a training-program certificate names the techniques it covers.", field="techniques"
        )
    duplicate = db.session.scalar(
        sa.select(Credential.id).where(
            Credential.practitioner_id == practitioner.id,
            Credential.issuer_id == issuer.id,
            Credential.number == data["number"],
            Credential.status.in_(("pending", "verified")),
        )
    )
    if duplicate is not None:
        raise RuleError(409, "You have already submitted this credential.", field="number")
    stored = _store_within_quota(practitioner.id, upload)
    try:
        credential = Credential(
            practitioner_id=practitioner.id,
            issuer_id=issuer.id,
            kind=data["kind"],
            title=data["title"],
            number=data["number"],
            issued_on=data["issued_on"],
            expires_on=data.get("expires_on"),
            techniques=catalog.by_slugs(Technique, data.get("techniques") or []),
        )
        credential.evidence.append(Evidence(version=1, **stored))
        lifecycle.transition(credential, "submit", user)
        db.session.commit()
    except Exception:
        _forget(stored)
        raise
    evidence.settle(stored["stored_name"])  # after the commit, outside the try: a named file stays
    return credential


def owned(user: User, credential_id: int) -> Credential:
    practitioner = practitioners.require_profile(user)
    credential = db.session.get(Credential, credential_id)
    if credential is None or credential.practitioner_id != practitioner.id:
        raise RuleError(404, "No such credential on your profile.", denied=credential is not None)
    return credential


def resubmit(user: User, credential_id: int, upload) -> Credential:
    """New evidence for a rejected or expired credential: a new version, and pending again."""
    credential = owned(user, credential_id)
    if lifecycle.effective_status(credential) not in ("rejected", "expired"):
        raise RuleError(409, "Only a rejected or expired credential can be resubmitted.")
    most = current_app.config["EVIDENCE_MAX_VERSIONS"]
    if len(credential.evidence) >= most:
        raise RuleError(
            409,
            f"This credential has {most} evidence versions already; submit it as a new credential instead.",
            field="evidence",
        )
    stored = _store_within_quota(credential.practitioner_id, upload)
    try:
        # A lapse is written down before the new file arrives, so its event names the old evidence.
        lifecycle.settle_expiry(credential)
        credential.evidence.append(Evidence(version=len(credential.evidence) + 1, **stored))
        lifecycle.transition(credential, "resubmit", user)
        db.session.commit()
    except Exception:
        _forget(stored)
        raise
    evidence.settle(stored["stored_name"])
    return credential


def _store_within_quota(practitioner_id: int, upload) -> dict:
    """Keep the file if the practitioner's evidence quota has room for it (413 if not). The practitioner's
    row stays locked until commit (PostgreSQL), so two uploads at once cannot both take the last room."""
    db.session.execute(sa.select(Practitioner.id).where(Practitioner.id == practitioner_id).with_for_update())
    try:
        return evidence.store(upload, evidence.room_left(practitioner_id))
    except RuleError:
        db.session.rollback()  # release the lock: the request may go on to render a page
        raise


def _forget(stored: dict) -> None:
    """The transaction failed: no row points at the stored file, so no file may stay behind."""
    db.session.rollback()
    evidence.discard(stored["stored_name"])


def mine(user: User) -> list[Credential]:
    practitioner = practitioners.require_profile(user)
    return list(
        db.session.scalars(
            sa.select(Credential).where(Credential.practitioner_id == practitioner.id).order_by(Credential.id)
        )
    )


def queue(status: str | None) -> list[Credential]:
    statement = (
        sa.select(Credential)
        .options(
            selectinload(Credential.practitioner),
            selectinload(Credential.issuer),
            selectinload(Credential.evidence),
        )
        .order_by(Credential.created_at, Credential.id)
    )
    if status:
        statement = statement.where(Credential.status == status)
    return list(db.session.scalars(statement))


def get(credential_id: int) -> Credential:
    credential = db.session.get(Credential, credential_id)
    if credential is None:
        raise RuleError(404, "No credential with that id.")
    return credential


def decide(admin: User, credential_id: int, action: str, reason: str) -> Credential:
    """An admin's decision. Two admins deciding at once: one wins, the other gets 409."""
    if action not in lifecycle.DECISIONS:
        raise RuleError(422, "The action is verify, reject or revoke.", field="action")
    credential = get(credential_id)
    try:
        lifecycle.transition(
            credential, action, admin, reason, "revocation" if action == "revoke" else "document"
        )
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


def evidence_for(user: User, credential_id: int, version: int | None = None) -> Evidence:
    """Owners and admins only; anyone else is told it does not exist."""
    credential = db.session.get(Credential, credential_id)
    allowed = credential is not None and (
        user.role == "admin"
        or (credential.practitioner is not None and credential.practitioner.user_id == user.id)
    )
    if not allowed or not credential.evidence:
        raise RuleError(404, "No such evidence.", denied=credential is not None and not allowed)
    if version is None:
        return credential.evidence[-1]
    for item in credential.evidence:
        if item.version == version:
            return item
    raise RuleError(404, "No such evidence version.")


def next_check_due(credential: Credential) -> date | None:
    """When the badge should next be confirmed: the expiry, or a year after verification."""
    if credential.verified_at is None:
        return None
    yearly = (credential.verified_at + CHECK_EVERY).date()
    return min(yearly, credential.expires_on) if credential.expires_on else yearly


def lookup(issuer_slug: str, number: str) -> Credential:
    credential = db.session.scalar(
        sa.select(Credential)
        .join(Issuer)
        .where(Issuer.slug == issuer_slug, Credential.number == number, Credential.status != "rejected")
        # Anyone may claim a number; the holder the issuer's record backs comes first, then the
        # latest decided claim, a pending claim only when nothing else exists.
        .order_by(
            sa.case((Credential.status == "verified", 0), (Credential.status == "pending", 2), else_=1),
            Credential.id.desc(),
        )
        .limit(1)
    )
    if credential is None:
        raise RuleError(404, "No credential with that issuer and number is on record.")
    return credential


def events_after(after: int, limit: int) -> list[CredentialEvent]:
    return list(
        db.session.scalars(
            sa.select(CredentialEvent)
            .where(CredentialEvent.id > after)
            .order_by(CredentialEvent.id)
            .limit(limit)
        )
    )


def audit_trail(credential_id: int | None) -> list[CredentialEvent]:
    statement = sa.select(CredentialEvent).order_by(CredentialEvent.id)
    if credential_id is not None:
        statement = statement.where(CredentialEvent.credential_id == credential_id)
    return list(db.session.scalars(statement.limit(5000)))


def expire_due(today: date | None = None) -> dict:
    """Write down every expiry that has happened (actor system); list those due in 30 days."""
    today = today or today_utc()
    lapsed = list(
        db.session.scalars(
            sa.select(Credential).where(Credential.status == "verified", Credential.expires_on < today)
        )
    )
    for credential in lapsed:
        lifecycle.transition(credential, "expire", None)
    db.session.commit()
    soon = list(
        db.session.scalars(
            sa.select(Credential)
            .where(
                Credential.status == "verified",
                Credential.expires_on >= today,
                Credential.expires_on <= today + timedelta(days=30),
            )
            .order_by(Credential.expires_on)
        )
    )
    return {"expired": lapsed, "expiring_soon": soon}
