"""What the public sees of credentials, always read from the database: rejected ones never, a contested
claim as pending, a verified one past its expiry or its re-check grace as expired or lapsed, at once.
Only what the source confirmed reads as verified: its dates where it showed them, the techniques an
admin confirmed on a training-program certificate."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from directory.credentials import standing
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.timeutil import today_utc

LICENCE_KINDS = ("licensing-board", "certification-board")


def _standing(c: Credential, today: date | None = None) -> dict:
    """What profile, lookup and cards say alike about a credential's state and the source's facts."""
    return {
        "id": c.id,
        "title": c.title,
        "number": c.number,
        "number_key": c.number_key,
        "status": standing.public_status(c, today),
        "label": standing.label(c, today),
        "recheck_due": standing.recheck_due(c, today),
        "method": c.method,
        "verified_at": c.verified_at,
        "next_check_due": standing.next_check_due(c),
        "issued_on": c.source_issued_on,
        "expires_on": c.ends_on,
        "expires_on_verified": c.source_expires_on is not None,
    }


def public_credential(c: Credential, today: date | None = None) -> dict:
    return _standing(c, today) | {
        "issuer": {"slug": c.issuer.slug, "name": c.issuer.name, "kind": c.issuer.kind},
        "kind": c.kind,
        "techniques": [t.slug for t in c.techniques],
        "confirmed_techniques": [t.slug for t in c.confirmed_techniques],
    }


def of_practitioners(ids: list[int]) -> dict[int, list[Credential]]:
    found: dict[int, list[Credential]] = {pid: [] for pid in ids}
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(Credential)
        .where(Credential.practitioner_id.in_(ids), Credential.status != "rejected")
        .options(
            joinedload(Credential.issuer),  # many-to-one: in the same statement
            selectinload(Credential.techniques),
            selectinload(Credential.confirmed_techniques),
        )
        .order_by(Credential.id)
    )
    for c in rows:
        found[c.practitioner_id].append(c)
    return found


def summary(credentials: list[Credential], today: date | None = None) -> dict:
    """The badge facts of one practitioner: verified, confirmed techniques, verified experience."""
    today = today or today_utc()
    live = [c for c in credentials if standing.is_live(c, today)]
    backed = {t.slug for c in live if c.issuer.kind == "training-program" for t in c.confirmed_techniques}
    # Experience counts only from an issue date the source showed, never one the claimant typed.
    licensed_since = [
        c.source_issued_on
        for c in live
        if c.source_issued_on and (c.issuer.kind in LICENCE_KINDS or c.kind == "license")
    ]
    return {
        "verified": bool(live),
        "verified_techniques": backed,
        "verified_years_experience": max(0, today.year - min(licensed_since).year)
        if licensed_since
        else None,
        "verified_since": min(licensed_since).year if licensed_since else None,
        "credentials": [public_credential(c, today) for c in credentials],
        "verified_until": max((u for c in live if (u := standing.badge_until(c)) is not None), default=None),
    }


def lookup(c: Credential) -> dict:
    """The public lookup's answer: the holder named by the legal name the source verified."""
    return _standing(c) | {
        "issuer": c.issuer,
        "practitioner": {
            "id": c.practitioner_id,
            "display_name": c.verified_legal_name,
            "legal_name": c.verified_legal_name,
        },
    }


def feed_event(e: CredentialEvent) -> dict:
    c = e.credential
    if c is None:  # the log's own events (checkpoints) are never in the feed
        raise ValueError(f"event {e.id} is about no credential")
    return {
        "id": e.id,
        "credential_id": e.credential_id,
        "practitioner_id": c.practitioner_id,
        "issuer": c.issuer.slug,
        "number": c.number,
        "number_key": c.number_key,
        # A contest is an admin's business: the public reads a contested claim as pending.
        "from_status": "pending" if e.from_status == "contested" else e.from_status,
        "to_status": e.to_status,
        "method": e.method,
        "at": e.at,
    }
