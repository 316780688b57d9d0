"""What anyone may read about credentials: the lookup by issuer and number, and the change feed.

The lookup names only the account that holds the number (the one an admin or the roster verified),
never a pending or contested claimant and never "the newest": a number nobody holds is a 404. The
feed carries only what a mirror needs: a credential becoming verified, and a verified one being
revoked, lapsing, expiring or sent back for a re-check. Pending, contested and rejected claims never
appear, and neither do the log's own events.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from directory.credentials import lifecycle, numbers, service, standing
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.rules import Data, RuleError
from directory.timeutil import today_utc

NOT_HELD = "No verified holder of that issuer and number is on record."
# (from, to) pairs the public feed shows: into verified from anywhere, and a badge's end.
BADGE_ENDS = ("revoked", "lapsed", "expired", "recheck")


def lookup(issuer_slug: str, number: str) -> Credential:
    found = service.issuer(issuer_slug, status=404)
    key = numbers.canonical_or_422(number, found)
    holder = service.claims_of_number(found.id, key, statuses=standing.HELD)
    if not holder:
        raise RuleError(404, NOT_HELD)
    return holder[0]


def public_events() -> sa.ColumnElement[bool]:
    """The feed's rows: into verified (not a re-check's confirmation), or from a badge to its end."""
    e = CredentialEvent
    return sa.and_(
        e.credential_id.is_not(None),
        sa.or_(
            sa.and_(
                e.to_status == "verified", e.from_status.in_(("pending", "contested", "recheck", "lapsed"))
            ),
            sa.and_(
                e.from_status.in_(standing.HELD), e.to_status.in_(BADGE_ENDS), e.from_status != e.to_status
            ),
        ),
    )


def events_after(after: int, limit: int) -> list[CredentialEvent]:
    return list(
        db.session.scalars(
            sa.select(CredentialEvent)
            .where(CredentialEvent.id > after, public_events())
            .order_by(CredentialEvent.id)
            .limit(limit)
        )
    )


def expire_due(today: date | None = None) -> Data:
    """Write down every expiry and every lapsed re-check that has happened (actor system); list what
    expires within 30 days and what is due for a re-check."""
    today = today or today_utc()
    ends = standing.ends_on_sql(Credential)
    verified = sa.select(Credential).where(Credential.status == "verified")
    changed = db.session.scalars(verified.where(standing.no_longer_live_sql(Credential, today))).all()
    for credential in changed:
        lifecycle.settle(credential)
    db.session.commit()
    soon = db.session.scalars(
        verified.where(ends >= today, ends <= today + timedelta(days=30)).order_by(ends, Credential.id)
    ).all()
    return {
        "expired": [c for c in changed if c.status == "expired"],
        "lapsed": [c for c in changed if c.status == "lapsed"],
        "expiring_soon": list(soon),
    }
