"""Demo credentials: a batch hook for generator.generate(), so demo profiles carry badges in every state.

Most practitioners hold a state licence (where the seed list has that state's board) or a national
certification, numbered as the issuer prints them; some a training-program certificate naming techniques
they practise. Most are verified (by document or roster, the source's dates kept apart), some due for a
re-check, sent back after a change of legal name, lapsed on the roster, pending, rejected or expired; and a
few claim a number another practitioner already claims, so the admins' re-check queue shows contests.
Each comes with the audit events that lead to its status (lifecycle.history_rows).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from directory.credentials import numbers, standing
from directory.credentials.lifecycle import Step, history_rows
from directory.credentials.models import Credential, CredentialEvent, credential_techniques
from directory.demo.profiles import record_rng
from directory.extensions import table_of

STATE_BOARDS = {
    "CA": ("camtc", "CMT-{:05d}"),
    "TX": ("tx-tdlr", "MT{:06d}"),
    "FL": ("fl-bmt", "MA{:05d}"),
    "NY": ("ny-sed", "{:06d}"),
    "WA": ("wa-doh", "MA{:08d}"),
    "IL": ("il-idfpr", "227.{:06d}"),
}
PROGRAMS = {
    "nmt-center": (
        "NMT Certification (American version)",
        ("neuromuscular-therapy", "trigger-point-therapy"),
    ),
    "st-john-nmt": ("St. John Method NMT Certification", ("neuromuscular-therapy",)),
    "namtpt": (
        "Certified Myofascial Trigger Point Therapist",
        ("trigger-point-therapy", "myofascial-release"),
    ),
}
REVIEWER, REVIEWER_REF = "reviewer@example.org", "demo:reviewer"
REJECTED = "Document unreadable; send a clearer scan."
RENAMED = "The legal name on the profile changed; the credential must be checked against it again."
CONTESTED = "Another account claims this number too: an admin will decide which account holds it."
# A practitioner in this many also claims the licence number of the practitioner before them.
CONTEST_RATE = 0.015


@dataclass
class Claim:
    issuer: str
    kind: str
    title: str
    number: str
    key: str
    issued_on: date
    expires_on: date | None
    techniques: tuple[str, ...] = ()


def _number(template: str, n: int, fmt: numbers.NumberFormat) -> tuple[str, str]:
    """As printed, and in the issuer's canonical form (numbers.py: the one rule claims and rosters use)."""
    printed = template.format(10000 + n)
    return printed, numbers.canonical(printed, fmt)


def _claims(rng, spec, today: date, formats: dict[str, numbers.NumberFormat]) -> list[Claim]:
    claims = []
    region = spec.locations[0].region if spec.locations else ""
    issued = date(max(spec.practicing_since, 1990), rng.randint(1, 12), rng.randint(1, 28))
    board = STATE_BOARDS.get(region)
    if board and rng.random() < 0.8:
        printed, key = _number(board[1], spec.n, formats[board[0]])
        expires = today + timedelta(days=rng.randint(-60, 720))
        claims.append(Claim(board[0], "license", "Licensed Massage Therapist", printed, key, issued, expires))
    elif rng.random() < 0.6:
        printed, key = _number("{:06d}-00", spec.n, formats["ncbtmb"])
        expires = today + timedelta(days=rng.randint(-30, 1400))
        claims.append(
            Claim(
                "ncbtmb",
                "certification",
                "Board Certified in Therapeutic Massage",
                printed,
                key,
                issued,
                expires,
            )
        )
    covered = [
        (slug, title, [t for t in techs if t in spec.techniques]) for slug, (title, techs) in PROGRAMS.items()
    ]
    covered = [c for c in covered if c[2]]
    if covered and rng.random() < 0.45:
        slug, title, techs = rng.choice(covered)
        printed, key = _number(f"{slug.upper()}-{{}}", spec.n, formats[slug])
        when = issued + timedelta(days=rng.randint(100, 2000)) if issued.year < 2020 else issued
        claims.append(Claim(slug, "certification", title, printed, key, when, None, tuple(techs)))
    return claims


def _outcome(rng) -> tuple[str, str | None]:
    roll = rng.random()
    for upto, outcome in (
        (0.45, ("verified", "document")),
        (0.65, ("verified", "roster")),
        (0.73, ("due", "document")),  # verified about a year ago: its re-check is due about now
        (0.75, ("recheck", "legal-name")),
        (0.77, ("lapsed", "roster")),
        (0.92, ("pending", None)),
    ):
        if roll < upto:
            return outcome
    return "rejected", "document"


def _plan(rng, spec, claim: Claim, now: datetime, holder_ref: str) -> tuple[dict, list[Step], bool]:
    """The row of one credential, the steps of its history, and whether its techniques were confirmed."""
    today = now.date()
    status, method = _outcome(rng)
    checked = now
    if status == "due":
        status, checked = "verified", now - timedelta(days=365 + rng.randint(-25, 25))
    if status == "verified" and standing.past(claim.expires_on, today):
        status, method = "expired", "expiry"
    if spec.legal_name is None and status in ("recheck", "pending"):
        status, method = "verified", "document"  # made before legal names: verified under the display name
    shows_dates = status in ("verified", "recheck", "lapsed", "expired") and rng.random() < 0.7
    ever_verified = status in ("verified", "recheck", "lapsed", "expired")
    row: dict[str, Any] = {
        "issuer": claim.issuer,
        "kind": claim.kind,
        "title": claim.title,
        "number": claim.number,
        "number_key": claim.key,
        "issued_on": claim.issued_on,
        "expires_on": claim.expires_on,
        "source_issued_on": claim.issued_on if shows_dates else None,
        "source_expires_on": claim.expires_on if shows_dates else None,
        "status": status,
        "method": method,
        "verified_at": checked if ever_verified else None,
        "checked_at": checked if ever_verified else None,
        "verified_legal_name": (spec.legal_name or spec.display_name) if ever_verified else None,
        "reason": {"rejected": REJECTED, "recheck": RENAMED}.get(status, ""),
        "created_at": checked - timedelta(days=2) if ever_verified else now,
        "updated_at": now,
        "version": 1,
    }
    steps = [Step(None, "pending", "submission", row["created_at"], spec.email, holder_ref)]
    verified_by = "roster" if method == "roster" else "document"
    if ever_verified:
        steps.append(Step("pending", "verified", verified_by, checked, REVIEWER, REVIEWER_REF))
    if status == "expired":
        steps.append(Step("verified", "expired", "expiry", now))
    elif status == "recheck":
        steps.append(Step("verified", "recheck", "legal-name", now, spec.email, holder_ref, RENAMED))
    elif status == "lapsed":
        reason = "Roster line 12: The roster lists it as inactive."
        steps.append(Step("verified", "lapsed", "roster", now, REVIEWER, REVIEWER_REF, reason))
    elif status == "rejected":
        steps.append(Step("pending", "rejected", "document", now, REVIEWER, REVIEWER_REF, REJECTED))
    confirmed = ever_verified and verified_by == "document" and bool(claim.techniques)
    return row, steps, confirmed


def _contest(spec, rival: Claim, now: datetime, holder_ref: str) -> tuple[dict, list[Step], bool]:
    """A second account's claim of a number another practitioner claims: contested, for an admin."""
    row = {
        "issuer": rival.issuer,
        "kind": rival.kind,
        "title": rival.title,
        "number": rival.number,
        "number_key": rival.key,
        "issued_on": rival.issued_on,
        "expires_on": rival.expires_on,
        "source_issued_on": None,
        "source_expires_on": None,
        "status": "contested",
        "method": None,
        "verified_at": None,
        "checked_at": None,
        "verified_legal_name": None,
        "reason": CONTESTED,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    steps = [
        Step(None, "pending", "submission", now, spec.email, holder_ref),
        Step("pending", "contested", "contest", now + timedelta(microseconds=1), reason=CONTESTED),
    ]
    return row, steps, False


def add_credentials(batch) -> None:
    """The hook: inserts this batch's credentials, technique links and audit events."""
    issuers, formats = {}, {}
    for slug, issuer_id, pattern, separators, example in batch.connection.execute(
        sa.text("SELECT slug, id, number_pattern, number_separators, number_example FROM issuers")
    ):
        issuers[slug] = issuer_id
        formats[slug] = numbers.NumberFormat(pattern, separators, example)
    refs = dict(
        batch.connection.execute(
            sa.text("SELECT id, audit_ref FROM users WHERE id IN :ids").bindparams(
                sa.bindparam("ids", list(batch.user_ids), expanding=True)
            )
        )
        .tuples()
        .all()
    )
    rows, plans = [], []
    previous = None  # (claim, stored row, steps) of the last practitioner's licence
    for spec, pid, uid in zip(batch.practitioners, batch.practitioner_ids, batch.user_ids, strict=True):
        rng = record_rng(batch.seed, spec.n, "credentials")
        ref = f"user:{refs[uid]}"
        made = [
            (claim, *_plan(rng, spec, claim, batch.now, ref))
            for claim in _claims(rng, spec, batch.now.date(), formats)
        ]
        if previous and rng.random() < CONTEST_RATE and previous[1]["status"] in ("pending", "verified"):
            rival, rival_row, rival_steps = previous
            made.append((rival, *_contest(spec, rival, batch.now, ref)))
            if rival_row["status"] == "pending":  # a first claim not yet verified is contested too
                rival_row.update(status="contested", reason=CONTESTED)
                rival_steps.append(Step("pending", "contested", "contest", batch.now, reason=CONTESTED))
        previous = None
        for claim, row, steps, confirmed in made:
            stored = {"practitioner_id": pid, "issuer_id": issuers[row.pop("issuer")], **row}
            rows.append(stored)
            plans.append((claim, steps, confirmed))
            if previous is None and (claim.kind == "license" or claim.issuer == "ncbtmb"):
                previous = (claim, stored, steps)
    if not rows:
        return
    table = table_of(Credential)
    ids = list(
        batch.connection.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    techniques = dict(batch.connection.execute(sa.text("SELECT slug, id FROM techniques")).tuples().all())
    links: list[dict] = []
    events: list[dict] = []
    for cid, (claim, steps, confirmed) in zip(ids, plans, strict=True):
        links.extend(
            {"credential_id": cid, "technique_id": techniques[t], "confirmed": confirmed}
            for t in claim.techniques
        )
        events.extend(history_rows(cid, steps))
    if links:
        batch.connection.execute(sa.insert(credential_techniques), links)
    batch.connection.execute(sa.insert(table_of(CredentialEvent)), events)
