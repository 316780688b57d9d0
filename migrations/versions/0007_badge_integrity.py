"""badge integrity: one holder per number, legal names, source facts, signed records that end,
pseudonymous audit hashes, checkpoints

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:30:00

What exists is carried over, never silently changed or deleted:
- every issuer gets its number format; each credential its canonical number (`number_key`), left empty
  where the old number does not fit the format (the admins' re-check queue lists those);
- practitioners have no legal name yet; their verified credentials keep their badges until the next
  re-check (which asks for it), recorded as verified under the display name they were matched with;
- claims of one issuer and number by several accounts become contested (a verified one stays
  verified when it is the only holder), each with its event;
- every audit event is hashed again over a pseudonymous actor reference instead of the actor's
  email, chain by chain, and one event of the log itself records that this happened.

The hashing and the number rules are copied here as they are today, so this migration keeps doing
what it did whatever the application's code becomes.
"""

import hashlib
import json
import re
import secrets
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
DEFAULT_PATTERN = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"
# slug → (pattern of the canonical form, separators that do not count, how the issuer prints one)
FORMATS = {
    "ncbtmb": (r"\d{6,10}", " -", "123456-00"),
    "camtc": (r"CMT\d{4,8}", " -", "CMT-12345"),
    "tx-tdlr": (r"MT\d{4,8}", " -", "MT123456"),
    "fl-bmt": (r"MA\d{4,8}", " -", "MA12345"),
    "ny-sed": (r"\d{6,8}", " -", "012345"),
    "wa-doh": (r"MA\d{8}", " -", "MA60123456"),
    "il-idfpr": (r"227\d{6,7}", " .-", "227.012345"),
}
OLD_STATUSES = "'pending', 'verified', 'rejected', 'revoked', 'expired'"
STATUSES = "'pending', 'contested', 'verified', 'recheck', 'lapsed', 'rejected', 'revoked', 'expired'"
HELD = "'verified', 'recheck', 'lapsed'"
ACTIVE = ("pending", "verified")  # the only active statuses before this revision
CONTESTED = "Another account claims this number too: an admin will decide which account holds it."
HASHED = (
    "credential_id",
    "from_status",
    "to_status",
    "actor_ref",
    "method",
    "reason",
    "evidence_sha256",
    "at",
    "prev_hash",
)


def _hash(event: dict) -> str:
    body = {name: event[name] for name in HASHED}
    at = event["at"]
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    body["at"] = at.isoformat(timespec="microseconds")
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _canonical(number: str, fmt) -> str | None:
    pattern, separators, _ = fmt
    text = number.strip()
    if not text or any(not (" " <= c <= "~") for c in text) or "  " in text:
        return None
    key = text.translate(str.maketrans("", "", separators)).upper()
    return key if re.fullmatch(pattern, key, re.ASCII) else None


def upgrade():
    bind = op.get_bind()
    _schema_before_data()
    _issuer_formats(bind)
    _audit_refs(bind)
    keys = _number_keys(bind)
    _legacy_verifications(bind)
    rehashed = _rehash_chains(bind)
    contested = _contest_duplicates(bind, keys)
    _migration_event(bind, rehashed, contested)
    _schema_after_data()


def _schema_before_data():
    with op.batch_alter_table("issuers") as b:
        b.add_column(sa.Column("number_pattern", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("number_separators", sa.String(length=20), nullable=True))
        b.add_column(sa.Column("number_example", sa.String(length=40), nullable=True))
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("audit_ref", sa.String(length=32), nullable=True))
    with op.batch_alter_table("practitioners") as b:
        b.add_column(sa.Column("legal_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("credentials") as b:
        b.add_column(sa.Column("number_key", sa.String(length=80), nullable=True))
        b.add_column(sa.Column("source_issued_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("source_expires_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("verified_legal_name", sa.String(length=200), nullable=True))
        b.drop_constraint("status", type_="check")
        b.create_check_constraint("status", f"status IN ({STATUSES})")
        b.drop_index("ix_credentials_issuer_number")
        b.create_index("ix_credentials_issuer_number", ["issuer_id", "number_key"], unique=False)
    with op.batch_alter_table("credential_techniques") as b:
        b.add_column(sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("credential_events") as b:
        b.add_column(sa.Column("actor_ref", sa.String(length=40), nullable=True))
        b.alter_column("credential_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "attestations",
        sa.Column("jti", sa.String(length=40), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_attestations_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_attestations")),
    )
    with op.batch_alter_table("attestations") as b:
        b.create_index(b.f("ix_attestations_credential_id"), ["credential_id"], unique=False)
        b.create_index(b.f("ix_attestations_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )


def _issuer_formats(bind):
    issuers = sa.table(
        "issuers",
        sa.column("slug"),
        sa.column("number_pattern"),
        sa.column("number_separators"),
        sa.column("number_example"),
    )
    for (slug,) in bind.execute(sa.select(issuers.c.slug)).all():
        pattern, separators, example = FORMATS.get(slug, (DEFAULT_PATTERN, "", ""))
        bind.execute(
            issuers.update()
            .where(issuers.c.slug == slug)
            .values(number_pattern=pattern, number_separators=separators, number_example=example)
        )


def _audit_refs(bind):
    users = sa.table("users", sa.column("id"), sa.column("audit_ref"))
    ids = bind.execute(sa.select(users.c.id)).scalars().all()
    if ids:
        bind.execute(
            users.update().where(users.c.id == sa.bindparam("b_id")).values(audit_ref=sa.bindparam("ref")),
            [{"b_id": i, "ref": secrets.token_hex(16)} for i in ids],
        )


def _number_keys(bind) -> dict[int, tuple[int, str | None]]:
    """credential id → (issuer id, canonical number or None)."""
    formats = {
        row.id: (row.number_pattern, row.number_separators, row.number_example)
        for row in bind.execute(
            sa.text("SELECT id, number_pattern, number_separators, number_example FROM issuers")
        )
    }
    rows = bind.execute(sa.text("SELECT id, issuer_id, number FROM credentials")).all()
    keys = {row.id: (row.issuer_id, _canonical(row.number, formats[row.issuer_id])) for row in rows}
    credentials = sa.table("credentials", sa.column("id"), sa.column("number_key"))
    updates = [{"b_id": cid, "key": key} for cid, (_, key) in keys.items() if key is not None]
    if updates:
        bind.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("b_id"))
            .values(number_key=sa.bindparam("key")),
            updates,
        )
    return keys


def _legacy_verifications(bind):
    # Verified before legal names existed: checked when verified, under the display name it was matched with.
    bind.execute(
        sa.text(
            "UPDATE credentials SET checked_at = verified_at, verified_legal_name = "
            "(SELECT display_name FROM practitioners p WHERE p.id = credentials.practitioner_id) "
            "WHERE verified_at IS NOT NULL"
        )
    )
    # The old rules read a verified certificate's techniques as verified when an admin checked the
    # document; those keep their badges until the next re-check.
    bind.execute(
        sa.text(
            "UPDATE credential_techniques SET confirmed = :yes WHERE credential_id IN "
            "(SELECT id FROM credentials WHERE status = 'verified' AND method = 'document')"
        ).bindparams(yes=True)
    )


def _events_table():
    typed = {
        "id": sa.Integer(),
        "credential_id": sa.Integer(),
        "actor_id": sa.Integer(),
        "at": sa.DateTime(timezone=True),
    }
    return sa.table(
        "credential_events",
        *(
            sa.column(c, typed.get(c, sa.String()))
            for c in (
                "id",
                "credential_id",
                "from_status",
                "to_status",
                "actor_id",
                "actor",
                "actor_ref",
                "method",
                "reason",
                "evidence_sha256",
                "at",
                "prev_hash",
                "hash",
            )
        ),
    )


def _rehash_chains(bind) -> int:
    refs = dict(bind.execute(sa.text("SELECT id, audit_ref FROM users")).tuples().all())
    former: dict[str, str] = {}
    events = _events_table()
    heads: dict[int, str] = {}
    updates = []
    rehashed = 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings():
        event = dict(row)
        if event["actor"] == "system" and event["actor_id"] is None:
            event["actor_ref"] = "system"
        elif event["actor_id"] in refs:
            event["actor_ref"] = f"user:{refs[event['actor_id']]}"
        else:  # an actor whose account is gone, or a demo name: a pseudonym of its own
            event["actor_ref"] = former.setdefault(event["actor"], f"former:{secrets.token_hex(12)}")
        event["prev_hash"] = heads.get(event["credential_id"], GENESIS)
        event["hash"] = heads[event["credential_id"]] = _hash(event)
        updates.append(
            {"b_id": event["id"], "ref": event["actor_ref"], "prev": event["prev_hash"], "h": event["hash"]}
        )
        rehashed += 1
        if len(updates) >= 5000:
            _write_hashes(bind, events, updates)
            updates = []
    _write_hashes(bind, events, updates)
    return rehashed


def _write_hashes(bind, events, updates):
    if updates:
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(actor_ref=sa.bindparam("ref"), prev_hash=sa.bindparam("prev"), hash=sa.bindparam("h")),
            updates,
        )


def _contest_duplicates(bind, keys) -> int:
    """Claims of one issuer and number by several accounts become contested; a lone verified holder stays."""
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.status, c.practitioner_id FROM credentials c WHERE c.status IN ('pending', 'verified')"
        )
    ).all()
    groups = defaultdict(list)
    for row in rows:
        issuer_id, key = keys[row.id]
        if key is not None:
            groups[(issuer_id, key)].append(row)
    now = datetime.now(UTC)
    events = _events_table()
    credentials = sa.table(
        "credentials",
        sa.column("id"),
        sa.column("status"),
        sa.column("reason"),
        sa.column("method"),
        sa.column("version"),
    )
    contested = 0
    for claims in groups.values():
        if len({c.practitioner_id for c in claims}) < 2:
            continue
        holders = [c for c in claims if c.status == "verified"]
        for claim in claims:
            if len(holders) == 1 and claim.status == "verified":
                continue
            head = (
                bind.execute(
                    sa.select(events.c.hash)
                    .where(events.c.credential_id == claim.id)
                    .order_by(events.c.id.desc())
                    .limit(1)
                ).scalar()
                or GENESIS
            )
            event = {
                "credential_id": claim.id,
                "from_status": claim.status,
                "to_status": "contested",
                "actor_id": None,
                "actor": "system",
                "actor_ref": "system",
                "method": "contest",
                "reason": CONTESTED,
                "evidence_sha256": "",
                "at": now,
                "prev_hash": head,
            }
            event["hash"] = _hash(event)
            bind.execute(events.insert().values(**event))
            bind.execute(
                credentials.update()
                .where(credentials.c.id == claim.id)
                .values(
                    status="contested", reason=CONTESTED, version=credentials.c.version + 1
                )
            )
            contested += 1
    return contested


def _migration_event(bind, rehashed: int, contested: int):
    events = _events_table()
    total, digest = 0, GENESIS
    for (value,) in bind.execute(sa.select(events.c.hash).order_by(events.c.id)):
        total += 1
        digest = hashlib.sha256((digest + value).encode()).hexdigest()
    if total == 0:
        return  # a new database: no chain to migrate
    event = {
        "credential_id": None,
        "from_status": None,
        "to_status": "migrated",
        "actor_id": None,
        "actor": "system",
        "actor_ref": "system",
        "method": "migration",
        "reason": (
            f"Audit hashes now cover a pseudonymous actor reference, not names or emails: "
            f"{rehashed} events re-hashed, {contested} claims of shared numbers contested; "
            f"digest of the {total} events of the log before this one {digest}."
        ),
        "evidence_sha256": "",
        "at": datetime.now(UTC),
        "prev_hash": GENESIS,
    }
    event["hash"] = _hash(event)
    bind.execute(events.insert().values(**event))


def _schema_after_data():
    with op.batch_alter_table("issuers") as b:
        b.alter_column("number_pattern", existing_type=sa.String(length=200), nullable=False)
        b.alter_column("number_separators", existing_type=sa.String(length=20), nullable=False)
        b.alter_column("number_example", existing_type=sa.String(length=40), nullable=False)
    with op.batch_alter_table("users") as b:
        b.alter_column("audit_ref", existing_type=sa.String(length=32), nullable=False)
        b.create_unique_constraint(b.f("uq_users_audit_ref"), ["audit_ref"])
    with op.batch_alter_table("credential_events") as b:
        b.alter_column("actor_ref", existing_type=sa.String(length=40), nullable=False)
    op.create_index(
        "uq_credentials_one_holder",
        "credentials",
        ["issuer_id", "number_key"],
        unique=True,
        sqlite_where=sa.text(f"status IN ({HELD})"),
        postgresql_where=sa.text(f"status IN ({HELD})"),
    )


def downgrade():
    op.drop_index("uq_credentials_one_holder", table_name="credentials")
    bind = op.get_bind()
    # The new statuses have no older meaning: what was contested is pending again; sent back and
    # lapsed ones were verified. The log's own events and the new tables go.
    bind.execute(sa.text("UPDATE credentials SET status = 'pending' WHERE status = 'contested'"))
    bind.execute(sa.text("UPDATE credentials SET status = 'verified' WHERE status IN ('recheck', 'lapsed')"))
    bind.execute(sa.text("DELETE FROM credential_events WHERE credential_id IS NULL"))
    op.drop_table("audit_checkpoints")
    op.drop_table("attestations")
    with op.batch_alter_table("credential_events") as b:
        b.drop_column("actor_ref")
        b.alter_column("credential_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("credential_techniques") as b:
        b.drop_column("confirmed")
    with op.batch_alter_table("credentials") as b:
        b.drop_index("ix_credentials_issuer_number")
        b.create_index("ix_credentials_issuer_number", ["issuer_id", "number"], unique=False)
        b.drop_constraint("status", type_="check")
        b.create_check_constraint("status", f"status IN ({OLD_STATUSES})")
        for column in (
            "verified_legal_name",
            "checked_at",
            "source_expires_on",
            "source_issued_on",
            "number_key",
        ):
            b.drop_column(column)
    with op.batch_alter_table("practitioners") as b:
        b.drop_column("legal_name")
    with op.batch_alter_table("users") as b:
        b.drop_constraint("uq_users_audit_ref", type_="unique")
        b.drop_column("audit_ref")
    with op.batch_alter_table("issuers") as b:
        for column in ("number_example", "number_separators", "number_pattern"):
            b.drop_column(column)
