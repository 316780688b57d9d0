from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.catalog.models import Issuer, Technique
from directory.extensions import db
from directory.timeutil import UTCDateTime, now_utc

STATUSES = ("pending", "verified", "rejected", "revoked", "expired")
KINDS = ("license", "certification")
METHODS = ("document", "roster", "expiry", "revocation", "submission")

credential_techniques = sa.Table(
    "credential_techniques",
    db.metadata,
    sa.Column("credential_id", sa.ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("technique_id", sa.ForeignKey("techniques.id", ondelete="CASCADE"), primary_key=True),
)


class Credential(db.Model):
    """A claimed licence or certification. `status` is written by lifecycle.transition() alone."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("issuers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    number: Mapped[str] = mapped_column(sa.String(80))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    method: Mapped[str | None] = mapped_column(sa.String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    # Bumped by every status change: a decision made on a stale read fails instead of winning.
    version: Mapped[int] = mapped_column(default=1)

    issuer: Mapped[Issuer] = relationship()
    techniques: Mapped[list[Technique]] = relationship(
        secondary=credential_techniques, order_by=Technique.slug
    )
    practitioner = relationship("Practitioner")
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="credential", order_by="Evidence.version", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'verified', 'rejected', 'revoked', 'expired')", name="status"
        ),
        sa.CheckConstraint("kind IN ('license', 'certification')", name="kind"),
        sa.Index("ix_credentials_issuer_number", "issuer_id", "number"),
    )

    def outbox_practitioner_id(self) -> int:
        return self.practitioner_id


class Evidence(db.Model):
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


class CredentialEvent(db.Model):
    """The audit trail: one row per status change, hash-chained per credential (audit.py)."""

    __tablename__ = "credential_events"

    credential: Mapped[Credential] = relationship()

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        sa.ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254))  # "system", or the acting user's email at the time
    method: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    # Each credential's chain is a line: one event per predecessor, so a concurrent decision
    # that read the same predecessor fails on this constraint instead of forking the chain.
    __table_args__ = (sa.UniqueConstraint("credential_id", "prev_hash", name="uq_credential_events_link"),)
