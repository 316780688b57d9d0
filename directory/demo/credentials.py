"""Demo credentials: a batch hook for generator.generate(), so demo profiles carry badges.

Most practitioners hold a state licence (where the seed list has that state's board) or a national
certification; some a training-program certificate naming techniques they practise. Most are
verified (by document or roster), some pending, a few rejected or expired, each with the audit
events that lead to its status, chained exactly as lifecycle.transition() would chain them.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from directory.credentials.audit import GENESIS, event_hash
from directory.credentials.models import Credential, CredentialEvent, credential_techniques
from directory.demo.profiles import record_rng

STATE_BOARDS = {
    "CA": "camtc",
    "TX": "tx-tdlr",
    "FL": "fl-bmt",
    "NY": "ny-sed",
    "WA": "wa-doh",
    "IL": "il-idfpr",
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
REVIEWER = "reviewer@example.org"


def _claims(rng, spec, today: date) -> list[dict]:
    claims = []
    region = spec.locations[0].region if spec.locations else ""
    issued = date(max(spec.practicing_since, 1990), rng.randint(1, 12), rng.randint(1, 28))
    board = STATE_BOARDS.get(region)
    if board and rng.random() < 0.8:
        claims.append(
            {
                "issuer": board,
                "kind": "license",
                "title": "Licensed Massage Therapist",
                "number": f"{board.upper()}-{rng.randint(10000, 999999)}",
                "issued_on": issued,
                "expires_on": today + timedelta(days=rng.randint(-60, 720)),
                "techniques": (),
            }
        )
    elif rng.random() < 0.6:
        claims.append(
            {
                "issuer": "ncbtmb",
                "kind": "certification",
                "title": "Board Certified in Therapeutic Massage",
                "number": f"NCB-{rng.randint(100000, 999999)}",
                "issued_on": issued,
                "expires_on": today + timedelta(days=rng.randint(-30, 1400)),
                "techniques": (),
            }
        )
    covered = [
        (slug, title, [t for t in techs if t in spec.techniques]) for slug, (title, techs) in PROGRAMS.items()
    ]
    covered = [c for c in covered if c[2]]
    if covered and rng.random() < 0.45:
        slug, title, techs = rng.choice(covered)
        claims.append(
            {
                "issuer": slug,
                "kind": "certification",
                "title": title,
                "number": f"{slug.upper()}-{rng.randint(1000, 99999)}",
                "issued_on": issued + timedelta(days=rng.randint(100, 2000))
                if issued.year < 2020
                else issued,
                "expires_on": None,
                "techniques": tuple(techs),
            }
        )
    return claims


def _outcome(rng) -> tuple[str, str | None]:
    roll = rng.random()
    if roll < 0.55:
        return "verified", "document"
    if roll < 0.85:
        return "verified", "roster"
    if roll < 0.95:
        return "pending", None
    return "rejected", "document"


def add_credentials(batch) -> None:
    """The hook: inserts this batch's credentials, technique links and audit events."""
    today = batch.now.date()
    issuers = dict(batch.connection.execute(sa.text("SELECT slug, id FROM issuers")).tuples().all())
    rows, links, plans = [], [], []
    for spec, pid in zip(batch.practitioners, batch.practitioner_ids, strict=True):
        rng = record_rng(batch.seed, spec.n, "credentials")
        for claim in _claims(rng, spec, today):
            status, method = _outcome(rng)
            if status == "verified" and claim["expires_on"] and claim["expires_on"] < today:
                status, method = "expired", "expiry"
            rows.append(
                {
                    "practitioner_id": pid,
                    "issuer_id": issuers[claim["issuer"]],
                    "kind": claim["kind"],
                    "title": claim["title"],
                    "number": claim["number"],
                    "issued_on": claim["issued_on"],
                    "expires_on": claim["expires_on"],
                    "status": status,
                    "method": method,
                    "verified_at": batch.now if status in ("verified", "expired") else None,
                    "reason": "Document unreadable; send a clearer scan." if status == "rejected" else "",
                    "created_at": batch.now,
                    "updated_at": batch.now,
                    "version": 1,
                }
            )
            plans.append((claim, status, method, spec.email))
    if not rows:
        return
    table = Credential.__table__
    ids = list(
        batch.connection.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    techniques = dict(batch.connection.execute(sa.text("SELECT slug, id FROM techniques")).tuples().all())
    events = []
    for cid, (claim, status, method, email) in zip(ids, plans, strict=True):
        links.extend({"credential_id": cid, "technique_id": techniques[t]} for t in claim["techniques"])
        events.extend(_events(cid, status, method, email, batch.now))
    if links:
        batch.connection.execute(sa.insert(credential_techniques), links)
    batch.connection.execute(sa.insert(CredentialEvent.__table__), events)


def _events(cid: int, status: str, method: str | None, holder: str, now) -> list[dict]:
    steps = [(None, "pending", "submission", "", holder)]
    if status in ("verified", "expired"):
        steps.append(("pending", "verified", method if status == "verified" else "document", "", REVIEWER))
    if status == "expired":
        steps.append(("verified", "expired", "expiry", "", "system"))
    if status == "rejected":
        steps.append(
            ("pending", "rejected", "document", "Document unreadable; send a clearer scan.", REVIEWER)
        )
    out, prev = [], GENESIS
    for i, (before, after, how, reason, actor) in enumerate(steps):
        event = CredentialEvent(
            credential_id=cid,
            from_status=before,
            to_status=after,
            actor=actor,
            method=how,
            reason=reason,
            evidence_sha256="",
            at=now + timedelta(microseconds=i),
            prev_hash=prev,
        )
        event.hash = prev = event_hash(event)
        out.append(
            {
                c: getattr(event, c)
                for c in (
                    "credential_id",
                    "from_status",
                    "to_status",
                    "actor",
                    "method",
                    "reason",
                    "evidence_sha256",
                    "at",
                    "prev_hash",
                    "hash",
                )
            }
            | {"actor_id": None}
        )
    return out
