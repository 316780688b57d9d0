"""What admins work through: the verification queue and the re-check queue, paged, filtered, searchable.

The re-check queue holds every credential that needs an admin's eyes again, each with what changed:
contested claims, credentials sent back (a new legal name, a roster that disagrees), lapsed ones (the
roster no longer lists them as active, or their re-check never came), verified ones whose re-check is
due within RECHECK_AHEAD (or overdue: the badge still shows for the grace, then goes), and numbers on
record that do not fit their issuer's format.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from directory.catalog.models import Issuer
from directory.credentials import standing
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.rules import Data
from directory.timeutil import day, today_utc

RECHECK_AHEAD = timedelta(days=30)
RECHECK_KINDS = ("contested", "recheck", "lapsed", "format", "due")


@dataclass
class Page:
    items: list[Any]  # credentials, or re-check items
    total: int


@dataclass
class RecheckItem:
    credential: Credential
    kind: str
    changed: str  # what changed, in a sentence


def _filtered(statement: sa.Select[Any], args: Data) -> sa.Select[Any]:
    if args.get("issuer"):
        statement = statement.where(Credential.issuer.has(Issuer.slug == args["issuer"]))
    if args.get("kind"):
        statement = statement.where(Credential.kind == args["kind"])
    if args.get("due_before"):
        statement = statement.where(standing.due_by_sql(Credential, args["due_before"]))
    if args.get("q"):
        needle = args["q"].lower()
        holder = sa.select(Practitioner.id).where(
            sa.or_(
                sa.func.lower(Practitioner.display_name).contains(needle, autoescape=True),
                sa.func.lower(Practitioner.legal_name).contains(needle, autoescape=True),
            )
        )
        compact = "".join(c for c in needle if c.isalnum()).upper()
        statement = statement.where(
            sa.or_(
                sa.func.lower(Credential.number).contains(needle, autoescape=True),
                Credential.number_key.contains(compact, autoescape=True) if compact else sa.false(),
                Credential.practitioner_id.in_(holder),
            )
        )
    return statement


def _page(statement: sa.Select[Any], order: tuple[Any, ...], page: int, per_page: int) -> Page:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    items = db.session.scalars(
        statement.options(
            selectinload(Credential.practitioner),
            selectinload(Credential.issuer),
            selectinload(Credential.evidence),
        )
        .order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(list(items), total)


def verification_queue(args: Data, page: int = 1, per_page: int = 50) -> Page:
    """Oldest first; `status` pending unless asked (pending includes nothing contested: ask for it)."""
    statement = sa.select(Credential)
    if args.get("status"):
        statement = statement.where(Credential.status == args["status"])
    return _page(_filtered(statement, args), (Credential.created_at, Credential.id), page, per_page)


def recheck_queue(args: Data, page: int = 1, per_page: int = 50, today: date | None = None) -> Page:
    today = today or today_utc()
    due = sa.and_(Credential.status == "verified", standing.due_by_sql(Credential, today + RECHECK_AHEAD))
    kinds = {
        "contested": Credential.status == "contested",
        "recheck": Credential.status == "recheck",
        "lapsed": Credential.status == "lapsed",
        "format": sa.and_(Credential.number_key.is_(None), Credential.status.in_(standing.ACTIVE)),
        "due": due,
    }
    wanted = [args["reason"]] if args.get("reason") else list(RECHECK_KINDS)
    statement = _filtered(sa.select(Credential).where(sa.or_(*(kinds[k] for k in wanted))), args)
    rank = sa.case(*((kinds[k], n) for n, k in enumerate(RECHECK_KINDS)), else_=len(RECHECK_KINDS))
    found = _page(statement, (rank, Credential.created_at, Credential.id), page, per_page)
    reasons = _latest_reasons([c.id for c in found.items])
    found.items = [_explained(c, reasons.get(c.id, ""), today) for c in found.items]
    return found


def _latest_reasons(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(CredentialEvent.credential_id, CredentialEvent.reason)
        .where(CredentialEvent.credential_id.in_(ids))
        .order_by(CredentialEvent.id)
    )
    return {cid: reason for cid, reason in rows.tuples() if cid is not None}


def _explained(c: Credential, reason: str, today: date) -> RecheckItem:
    if c.status == "contested":
        rivals = db.session.scalar(
            sa.select(sa.func.count()).where(
                Credential.issuer_id == c.issuer_id,
                Credential.number_key == c.number_key,
                Credential.status.in_(standing.ACTIVE),
                Credential.id != c.id,
            )
        )
        return RecheckItem(
            c, "contested", f"Claimed by {(rivals or 0) + 1} accounts: decide which one holds it."
        )
    if c.status in ("recheck", "lapsed"):
        return RecheckItem(c, c.status, reason or "Sent back for a re-check.")
    if c.number_key is None:
        example = f" ({c.issuer.number_example})" if c.issuer.number_example else ""
        return RecheckItem(
            c, "format", f"The number does not fit how {c.issuer.name} writes numbers{example}."
        )
    due = standing.next_check_due(c)
    words = [f"Re-check due on {day(due)}." if due else "Never checked."]
    if due and due < today:
        words.append(f"The badge goes after {day(standing.grace_ends(c))}.")
    if c.practitioner and not c.practitioner.legal_name:
        words.append("No legal name on the profile yet: ask for it.")
    elif c.practitioner and c.verified_legal_name != c.practitioner.legal_name:
        words.append("Verified under another name than the legal name now on the profile.")
    return RecheckItem(c, "due", " ".join(words))
