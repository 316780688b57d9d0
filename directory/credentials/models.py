from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.catalog.models import Issuer, Technique
from directory.credentials import standing
from directory.credentials.standing import HELD, STATUSES
from directory.extensions import Model, db
from directory.timeutil import UTCDateTime, now_utc

KINDS = ("license", "certification")
METHODS = (
    "document",
    "roster",
    "expiry",
    "revocation",
    "submission",
    "contest",
    "legal-name",
    "grace",
    "migration",
)
_IN = lambda values: ", ".join(f"'{v}'" for v in values)  # noqa: E731

credential_techniques = sa.Table(
    "credential_techniques",
    db.metadata,
    sa.Column("credential_id", sa.ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("technique_id", sa.ForeignKey("techniques.id", ondelete="CASCADE"), primary_key=True),
    # A technique counts as verified only once an admin confirmed it on a training-program
    # certificate's decision form; the claimant's list alone is a claim.
    sa.Column("confirmed", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)


class Credential(Model):
    """A claimed licence or certification. `status` is written by lifecycle.transition() alone."""

    __tablename__ = "credentials"

    if TYPE_CHECKING:
        # Set by the admin's credential view for its schema (every rival claim of the number), never stored.
        rivals: list["Credential"]

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("issuers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    # As the claimant typed it (shown back to them); `number_key` is the issuer's canonical form,
    # the credential's identity. It is None only for numbers on record from before the issuer had a
    # format that do not fit it: those are listed for admins, never changed silently.
    number: Mapped[str] = mapped_column(sa.String(80))
    number_key: Mapped[str | None] = mapped_column(sa.String(80))
    # The claimant's dates. What the source (roster, document) showed is kept apart in `source_*`,
    # so a date the claimant typed is never shown as verified.
    issued_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    source_issued_on: Mapped[date | None] = mapped_column(sa.Date)
    source_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    method: Mapped[str | None] = mapped_column(sa.String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the source last confirmed it (a verification or a re-check); the next check is due a year on.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The holder's legal name as the source matched it: what signed records and the lookup state.
    verified_legal_name: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    # Bumped by every status change: a decision made on a stale read fails instead of winning.
    version: Mapped[int] = mapped_column(default=1)

    issuer: Mapped[Issuer] = relationship()
    techniques: Mapped[list[Technique]] = relationship(
        secondary=credential_techniques, order_by=Technique.slug
    )
    confirmed_techniques: Mapped[list[Technique]] = relationship(
        secondary=credential_techniques,
        secondaryjoin=sa.and_(
            credential_techniques.c.technique_id == Technique.id, credential_techniques.c.confirmed
        ),
        order_by=Technique.slug,
        viewonly=True,
    )
    practitioner = relationship("Practitioner")
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="credential", order_by="Evidence.version", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({_IN(STATUSES)})", name="status"),
        sa.CheckConstraint("kind IN ('license', 'certification')", name="kind"),
        sa.Index("ix_credentials_issuer_number", "issuer_id", "number_key"),
        # One holder per issuer and number: at most one claim holds it (verified, or verified and
        # now being re-checked or lapsed), so the public lookup can never name two.
        sa.Index(
            "uq_credentials_one_holder",
            "issuer_id",
            "number_key",
            unique=True,
            sqlite_where=sa.text(f"status IN ({_IN(HELD)})"),
            postgresql_where=sa.text(f"status IN ({_IN(HELD)})"),
        ),
    )

    @property
    def ends_on(self) -> date | None:
        return standing.ends_on(self)

    def outbox_practitioner_id(self) -> int:
        return self.practitioner_id


class Evidence(Model):
    """A file a practitioner sent for a credential. Kept by a random name under the data dir; every
    resubmission adds a version and keeps the old ones."""

    __tablename__ = "credential_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        sa.ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    credential: Mapped[Credential] = relationship(back_populates="evidence")


class CredentialEvent(Model):
    """The audit trail: one row per status change, hash-chained per credential (audit.py). Events of
    the log itself (a migration of the chains) have no credential and chain among themselves."""

    __tablename__ = "credential_events"

    credential: Mapped[Credential | None] = relationship()

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # For people reading the log: "system", or the acting user's email at the time. Not hashed,
    # so it can be blanked when the person is deleted; the hash covers `actor_ref` instead.
    actor: Mapped[str] = mapped_column(sa.String(254))
    # "system", or "user:" and the account's random audit reference: a pseudonym that names nobody.
    actor_ref: Mapped[str] = mapped_column(sa.String(40), default="system")
    method: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    # Each credential's chain is a line: one event per predecessor, so a concurrent decision
    # that read the same predecessor fails on this constraint instead of forking the chain.
    __table_args__ = (sa.UniqueConstraint("credential_id", "prev_hash", name="uq_credential_events_link"),)


class Attestation(Model):
    """A signed record handed out: what its `jti` stood for, so anyone can ask whether it still holds."""

    __tablename__ = "attestations"

    jti: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        sa.ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    # The verification it speaks for: a later verification, a re-check or a rename supersedes it.
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    legal_name: Mapped[str | None] = mapped_column(sa.String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditCheckpoint(Model):
    """A signed statement of the audit log's length and head, published so that others can keep it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(sa.Integer)
    event_count: Mapped[int] = mapped_column(sa.Integer)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    # A running SHA-256 over every event hash in id order up to last_event_id (audit.py).
    digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    jws: Mapped[str] = mapped_column(sa.Text)
