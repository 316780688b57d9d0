"""Primary-source roster import: an issuer's own list of who holds which number (roster_file.py).

The roster decides the facts. For every claim of the issuer whose canonical number is on the file:

- a pending claim on an active row whose name matches the holder's legal name is verified (method
  `roster`) with the roster's dates: its expiry, and its issue date where the file has an `issued_on`
  column. Dates the claimant typed that differ are reported, never shown as verified;
- a verified credential is re-checked: an active row with a matching name confirms it (its next check
  moves a year on), an inactive row lapses it, a name that no longer matches sends it back for a re-check;
  one missing from the file lapses too. A credential sent back or lapsed earlier is verified again by a
  matching active row;
- a contested claim is never verified here: an admin decides which account holds the number.

Everything is applied in one transaction through the lifecycle's batch path (one chained event per
credential), then a signed checkpoint of the audit log is published. A page or API request applies at
most ROSTER_REQUEST_MAX_CHANGES changes; a larger one is for the command line.
"""

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from tqdm import tqdm

from directory.accounts.models import User
from directory.catalog.models import Issuer
from directory.credentials import lifecycle, service, standing
from directory.credentials.lifecycle import BatchItem, Facts
from directory.credentials.models import Credential, CredentialEvent
from directory.credentials.names import names_match
from directory.credentials.roster_file import RosterRow, parse_roster, read_bytes
from directory.extensions import db, refresh_statistics, table_of
from directory.logs import security_event
from directory.practitioners.models import Practitioner
from directory.rules import Data, RuleError
from directory.timeutil import today_utc

# One active claim with its holder, as `_holdings` reads it (a row of credential and account columns).
Holding = sa.Row[Any]
T = TypeVar("T")

REASON = "Matched the issuer's roster"
CHUNK = 2000
# Moves the plan may ask of the lifecycle, in the order they are applied.
MOVES = ("verify", "confirm", "recheck", "lapse")


@dataclass
class Plan:
    matched: int = 0
    moves: dict[str, list[BatchItem]] = field(default_factory=lambda: {m: [] for m in MOVES})
    mismatched: list[Data] = field(default_factory=list)
    lapsed: list[Data] = field(default_factory=list)
    sent_back: list[Data] = field(default_factory=list)
    contested: list[Data] = field(default_factory=list)
    dates_differ: list[Data] = field(default_factory=list)
    pending_not_on_roster: int = 0

    def changes(self) -> int:
        return sum(len(items) for items in self.moves.values())


def default_admin(email: str | None) -> User:
    """The acting admin for the command line: the one named, or the only one there is."""
    query = sa.select(User).where(User.role == "admin")
    if email:
        admin = db.session.scalar(query.where(sa.func.lower(User.email) == email.strip().lower()))
        if admin is None:
            raise RuleError(404, f"No admin account {email}.", field="admin")
        return admin
    admins = list(db.session.scalars(query.order_by(User.id).limit(2)))
    if len(admins) != 1:
        raise RuleError(
            422,
            "Name the acting admin with --admin EMAIL."
            if admins
            else "There is no admin account: create one with `directory create-admin`.",
            field="admin",
        )
    return admins[0]


def import_roster(
    admin: User,
    issuer_slug: str,
    stream: IO[bytes],
    progress: bool = False,
    dry_run: bool = False,
    max_changes: int | None = None,
) -> Data:
    """Check the whole file, then apply the plan in one transaction.

    `stream` is bytes or a binary file. Returns {rows, matched, verified, confirmed, sent_back,
    mismatched, lapsed, …, details}; raises RuleError (403, 404, 409, 413, 422) with nothing applied."""
    started = time.perf_counter()
    if admin is None or admin.role != "admin":
        raise RuleError(403, "Only an admin imports rosters.")
    issuer = service.issuer(issuer_slug, status=404)
    data = read_bytes(stream)
    rows = parse_roster(data, issuer)
    plan = _plan(admin, issuer, rows, progress)
    if not dry_run:
        if max_changes is not None and plan.changes() > max_changes:
            raise RuleError(
                413,
                f"This roster changes {plan.changes():,} credentials; a request applies at most "
                f"{max_changes:,}. Nothing was applied: run `flask --app wsgi directory import-roster "
                f"{issuer.slug} FILE` on a server, or check it here with a dry run.",
                field="file",
            )
        _apply(admin, plan, progress)
        db.session.commit()  # the whole plan at once: nothing of it before this line is kept
        security_event("roster.import", issuer=issuer.slug, changes=plan.changes(), rows=len(rows))
        from directory.credentials import checkpoints

        # Its own transaction, after the import's: the checkpoint signs what is committed, and taking
        # its table lock while the import still held row locks could deadlock with a decision in flight.
        checkpoints.publish()
        refresh_statistics([table_of(Credential), table_of(CredentialEvent)])  # thousands may have moved
    return {
        "issuer": issuer.slug,
        "rows": len(rows),
        "matched": plan.matched,
        "verified": len(plan.moves["verify"]),
        "confirmed": len(plan.moves["confirm"]),
        "sent_back": len(plan.moves["recheck"]),
        "mismatched": len(plan.mismatched),
        "lapsed": len(plan.lapsed),
        "contested": len(plan.contested),
        "errors": [],
        "dry_run": dry_run,
        "sha256": hashlib.sha256(data).hexdigest(),
        "seconds": round(time.perf_counter() - started, 3),
        "details": {
            "mismatched": plan.mismatched,
            "lapsed": plan.lapsed,
            "sent_back": plan.sent_back,
            "contested": plan.contested,
            "confirmed": [item.credential_id for item in plan.moves["confirm"]],
            "dates_differ": plan.dates_differ,
            "pending_not_on_roster": plan.pending_not_on_roster,
        },
    }


def _holdings(issuer: Issuer) -> dict[str, list[Holding]]:
    """The issuer's active claims with their holders, in one query, by canonical number."""
    records = db.session.execute(
        sa.select(
            Credential.id,
            Credential.number,
            Credential.number_key,
            Credential.status,
            Credential.version,
            Credential.issued_on,
            Credential.expires_on,
            Credential.source_expires_on,
            Credential.checked_at,
            Credential.method,
            Credential.practitioner_id,
            Practitioner.legal_name,
            Practitioner.user_id,
        )
        .join(Practitioner, Practitioner.id == Credential.practitioner_id)
        .where(
            Credential.issuer_id == issuer.id,
            Credential.status.in_(standing.ACTIVE),
            Credential.number_key.is_not(None),
        )
        .order_by(Credential.id)
    ).all()
    by_number: dict[str, list[Holding]] = defaultdict(list)
    for record in records:
        by_number[record.number_key].append(record)
    return by_number


def _item(record: Holding, row: RosterRow | None, reason: str) -> Data:
    return {
        "credential_id": record.id,
        "number": record.number,
        "practitioner_id": record.practitioner_id,
        "line": row.line if row else None,
        "reason": reason,
    }


def _move(plan: Plan, action: str, record: Holding, reason: str, facts: Facts | None = None) -> None:
    plan.moves[action].append(
        BatchItem(
            record.id, record.status, record.version, record.practitioner_id, record.user_id, facts, reason
        )
    )


def _plan(admin: User, issuer: Issuer, rows: list[RosterRow], progress: bool) -> Plan:
    today = today_utc()
    holdings = _holdings(issuer)
    plan = Plan()
    seen: set[str] = set()
    for row in tqdm(rows, desc="Matching roster", unit=" rows", disable=not progress):
        records = holdings.get(row.key)
        if not records:
            continue
        seen.add(row.key)
        plan.matched += 1
        for record in records:
            _judge(plan, admin, record, row, today)
    for key, records in holdings.items():
        if key in seen:
            continue
        for record in records:
            if record.status == "pending":
                plan.pending_not_on_roster += 1
            elif record.status == "verified" and _live(record, today):
                plan.lapsed.append(_item(record, None, "Not on the roster."))
                _move(plan, "lapse", record, "Not on the issuer's roster.", None)
    plan.lapsed.sort(key=lambda x: x["credential_id"])
    return plan


def _judge(plan: Plan, admin: User, record: Holding, row: RosterRow, today: date) -> None:
    """What the row means for one claim of its number."""
    if record.status == "contested":
        plan.contested.append(_item(record, row, "Contested: an admin decides which account holds it."))
        return
    inactive = row.inactive_reason(today)
    where = f"Roster line {row.line}: "
    if record.status == "verified":
        if inactive:
            if _live(record, today):
                plan.lapsed.append(_item(record, row, inactive))
            _move(plan, "lapse", record, where + inactive)
            return
    elif inactive:
        plan.mismatched.append(_item(record, row, inactive))
        return
    if record.user_id == admin.id:
        plan.mismatched.append(_item(record, row, "Your own credential: another admin must decide on it."))
        return
    if not names_match(row.name, record.legal_name):
        reason = (
            f"The roster's name “{row.name}” is not the legal name “{record.legal_name}”."
            if record.legal_name
            else "The practitioner has not given their legal name yet."
        )
        if record.status == "verified":
            plan.sent_back.append(_item(record, row, reason))
            _move(plan, "recheck", record, where + reason)
        else:
            plan.mismatched.append(_item(record, row, reason))
        return
    _report_dates(plan, record, row)
    facts = Facts(record.legal_name, row.issued_on, row.expires_on)
    _move(plan, "confirm" if record.status == "verified" else "verify", record, REASON, facts)


def _report_dates(plan: Plan, record: Holding, row: RosterRow) -> None:
    for name, claimed, shown in (
        ("issued_on", record.issued_on, row.issued_on),
        ("expires_on", record.expires_on, row.expires_on),
    ):
        if shown is not None and shown != claimed:
            plan.dates_differ.append(
                {
                    "credential_id": record.id,
                    "number": record.number,
                    "line": row.line,
                    "field": name,
                    "claimed": claimed,
                    "roster": shown,
                }
            )


def _live(record: Holding, today: date) -> bool:
    # A verified credential already past its expiry or its grace reads so: no badge left to lapse.
    return standing.is_live(record, today)


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply(admin: User, plan: Plan, progress: bool) -> None:
    """Every move of the plan, flushed into the caller's transaction; any failure rolls all of them back."""
    try:
        with tqdm(total=plan.changes(), desc="Applying", unit=" credentials", disable=not progress) as bar:
            for action in MOVES:
                for chunk in _chunks(plan.moves[action], CHUNK):
                    lifecycle.transition_batch(chunk, action, admin, "roster")
                    bar.update(len(chunk))
        db.session.flush()  # a credential changed meanwhile shows here, still inside the try
    except (StaleDataError, sa.exc.IntegrityError, RuleError) as exc:
        db.session.rollback()
        raise RuleError(
            409,
            "A credential changed while the roster was being applied, so nothing was applied. "
            "Upload the roster again.",
        ) from exc
    except BaseException:
        db.session.rollback()
        raise
