"""What the public sees of credentials, always read from the database: rejected ones never, and a
verified one past its expiry as expired, at once."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from directory.credentials import lifecycle, service
from directory.credentials.models import Credential
from directory.extensions import db
from directory.timeutil import today_utc

LICENCE_KINDS = ("licensing-board", "certification-board")


def public_credential(c: Credential, today: date | None = None) -> dict:
    return {
        "id": c.id,
        "issuer": {"slug": c.issuer.slug, "name": c.issuer.name, "kind": c.issuer.kind},
        "kind": c.kind,
        "title": c.title,
        "number": c.number,
        "techniques": [t.slug for t in c.techniques],
        "status": lifecycle.effective_status(c, today),
        "method": c.method,
        "verified_at": c.verified_at,
        "next_check_due": service.next_check_due(c),
        "expires_on": c.expires_on,
    }


def of_practitioners(ids: list[int]) -> dict[int, list[Credential]]:
    found: dict[int, list[Credential]] = {pid: [] for pid in ids}
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(Credential)
        .where(Credential.practitioner_id.in_(ids), Credential.status != "rejected")
        .options(selectinload(Credential.issuer), selectinload(Credential.techniques))
        .order_by(Credential.id)
    )
    for c in rows:
        found[c.practitioner_id].append(c)
    return found


def summary(credentials: list[Credential], today: date | None = None) -> dict:
    """The badge facts of one practitioner: verified, backed techniques, verified experience."""
    today = today or today_utc()
    live = [c for c in credentials if lifecycle.is_live(c, today)]
    backed = {t.slug for c in live if c.issuer.kind == "training-program" for t in c.techniques}
    licensed_since = [c.issued_on for c in live if c.issuer.kind in LICENCE_KINDS or c.kind == "license"]
    return {
        "verified": bool(live),
        "verified_techniques": backed,
        "verified_years_experience": max(0, today.year - min(licensed_since).year)
        if licensed_since
        else None,
        "credentials": [public_credential(c, today) for c in credentials],
        "verified_until": max((c.expires_on or date.max for c in live), default=None),
    }
