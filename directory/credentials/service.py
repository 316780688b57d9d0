"""Credential rules a practitioner meets: claiming, resubmitting, their legal name, their evidence.

A credential is identified by its issuer and its canonical number (numbers.py). A claim on a number
that another account already claims or holds is `contested`, and so is that other claim while it is
not yet verified, so a squatter who claims first can neither block nor pre-empt the real holder; only
an admin settles a contest (decisions.py).
"""

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from directory.accounts.models import User
from directory.catalog import service as catalog
from directory.catalog.models import Issuer, Technique
from directory.credentials import evidence, lifecycle, numbers, standing
from directory.credentials.models import Credential, Evidence
from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.models import Practitioner
from directory.rules import Data, RuleError

CONTESTED = "Another account claims this number too: an admin will decide which account holds it."
RENAMED = "The legal name on the profile changed; the credential must be checked against it again."


def issuer(slug: str, status: int = 422) -> Issuer:
    """The issuer of that slug, for every path that names one (claims, lookups, rosters): RuleError
    `status` when there is none, 422 for a claim's field, 404 for a path."""
    found = db.session.scalar(sa.select(Issuer).where(Issuer.slug == slug))
    if found is None:
        raise RuleError(status, f"Unknown issuer {slug}. See /api/v1/issuers.", field="issuer")
    return found


def claims_of_number(
    issuer_id: int, number_key: str, statuses: tuple[str, ...] = standing.ACTIVE
) -> list[Credential]:
    return list(
        db.session.scalars(
            sa.select(Credential)
            .where(
                Credential.issuer_id == issuer_id,
                Credential.number_key == number_key,
                Credential.status.in_(statuses),
            )
            .order_by(Credential.id)
        )
    )


def submit(user: User, data: Data, upload: FileStorage | None) -> Credential:
    """A new claim with its evidence; pending (or contested) until an admin or a roster decides."""
    practitioner = practitioners.require_profile(user)
    found = issuer(data["issuer"])
    if data.get("techniques") and found.kind != "training-program":
        raise RuleError(
            422, "Only a training-program certificate names the techniques it covers.", field="techniques"
        )
    key = numbers.canonical_or_422(data["number"], found)
    # Claims of one issuer are taken one at a time (PostgreSQL), so two claimants of one number
    # arriving together cannot both miss each other.
    db.session.execute(sa.select(Issuer.id).where(Issuer.id == found.id).with_for_update())
    rivals = claims_of_number(found.id, key)
    if any(c.practitioner_id == practitioner.id for c in rivals):
        raise RuleError(409, "You have already submitted this credential.", field="number")
    _within_undecided_limit(practitioner.id)
    stored = _store_within_quota(practitioner.id, upload)
    try:
        credential = Credential(
            practitioner_id=practitioner.id,
            issuer_id=found.id,
            kind=data["kind"],
            title=data["title"],
            number=data["number"].strip(),
            number_key=key,
            issued_on=data["issued_on"],
            expires_on=data.get("expires_on"),
            techniques=catalog.by_slugs(Technique, data.get("techniques") or []),
        )
        credential.evidence.append(Evidence(version=1, **stored))
        lifecycle.transition(credential, "submit", user)
        if rivals:
            lifecycle.transition(credential, "contest", None, CONTESTED)
            for rival in rivals:
                if rival.status == "pending":
                    lifecycle.transition(rival, "contest", None, CONTESTED)
        db.session.commit()
    except Exception:
        _forget(stored)
        raise
    evidence.settle(stored["stored_name"])  # after the commit, outside the try: a named file stays
    return credential


def _within_undecided_limit(practitioner_id: int) -> None:
    most = current_app.config["MAX_UNDECIDED_CLAIMS"]
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Credential)
        .where(Credential.practitioner_id == practitioner_id, Credential.status.in_(standing.UNDECIDED))
    )
    if waiting >= most:
        raise RuleError(
            409,
            f"You have {waiting} claims waiting for a decision, the most one account may have. "
            "Add more once some of them are decided.",
        )


def owned(user: User, credential_id: int) -> Credential:
    practitioner = practitioners.require_profile(user)
    credential = db.session.get(Credential, credential_id)
    if credential is None or credential.practitioner_id != practitioner.id:
        raise RuleError(404, "No such credential on your profile.", denied=credential is not None)
    return credential


RESUBMITTABLE = lifecycle.MOVES["resubmit"][0]


def resubmit(user: User, credential_id: int, upload: FileStorage | None) -> Credential:
    """New evidence for a rejected, expired, lapsed or sent-back credential: a new version, pending again."""
    credential = owned(user, credential_id)
    if standing.effective_status(credential) not in RESUBMITTABLE:
        raise RuleError(409, "Only a rejected, expired, lapsed or sent-back credential can be resubmitted.")
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
        lifecycle.settle(credential)
        credential.evidence.append(Evidence(version=len(credential.evidence) + 1, **stored))
        lifecycle.transition(credential, "resubmit", user)
        db.session.commit()
    except Exception:
        _forget(stored)
        raise
    evidence.settle(stored["stored_name"])
    return credential


def _store_within_quota(practitioner_id: int, upload: FileStorage | None) -> Data:
    """Keep the file if the practitioner's evidence quota has room for it (413 if not). The practitioner's
    row stays locked until commit (PostgreSQL), so two uploads at once cannot both take the last room."""
    db.session.execute(sa.select(Practitioner.id).where(Practitioner.id == practitioner_id).with_for_update())
    try:
        return evidence.store(upload, evidence.room_left(practitioner_id))
    except RuleError:
        db.session.rollback()  # release the lock: the request may go on to render a page
        raise


def _forget(stored: Data) -> None:
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


def set_legal_name(user: User, legal_name: str) -> Data:
    """The name on the practitioner's licences. Changing it once any credential is verified sends every
    verified credential back for a re-check at once (its badge goes, and its signed records stop
    holding); setting it for the first time leaves earlier verifications to their next re-check.
    Returns {legal_name, sent_back: [credential ids]}."""
    practitioner = practitioners.require_profile(user)
    previous = practitioner.legal_name
    sent_back: list[int] = []
    if previous == legal_name:
        return {"legal_name": legal_name, "sent_back": sent_back}
    practitioner.legal_name = legal_name
    if previous is not None:
        verified = db.session.scalars(
            sa.select(Credential).where(
                Credential.practitioner_id == practitioner.id, Credential.status == "verified"
            )
        ).all()
        for credential in verified:
            lifecycle.settle(credential)
            if credential.status == "verified" and credential.verified_legal_name != legal_name:
                lifecycle.transition(credential, "recheck", user, RENAMED, "legal-name")
                sent_back.append(credential.id)
    db.session.commit()
    return {"legal_name": legal_name, "sent_back": sent_back}


def evidence_for(user: User, credential_id: int, version: int | None = None) -> Evidence:
    """Owners and admins only; anyone else is told it does not exist."""
    credential = db.session.get(Credential, credential_id)
    allowed = credential is not None and (
        user.role == "admin"
        or (credential.practitioner is not None and credential.practitioner.user_id == user.id)
    )
    if credential is None or not allowed or not credential.evidence:
        raise RuleError(404, "No such evidence.", denied=credential is not None and not allowed)
    if version is None:
        return credential.evidence[-1]
    for item in credential.evidence:
        if item.version == version:
            return item
    raise RuleError(404, "No such evidence version.")


def get(credential_id: int) -> Credential:
    credential = db.session.get(Credential, credential_id)
    if credential is None:
        raise RuleError(404, "No credential with that id.")
    return credential
