from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import Model
from directory.timeutil import UTCDateTime, now_utc


class ReviewInvite(Model):
    """A single-use code a practitioner mails to a client's address; only its SHA-256 is kept, and only an
    account with that confirmed `email` (made before or after the invite) may redeem it (reviews/invites.py)."""

    __tablename__ = "review_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Review(Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_name: Mapped[str] = mapped_column(sa.String(60), default="")
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    body: Mapped[str] = mapped_column(sa.Text)
    verified_client: Mapped[bool] = mapped_column(default=False)
    invite_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_invites.id", ondelete="SET NULL"))
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    response: Mapped["ReviewResponse | None"] = relationship(back_populates="review", uselist=False)
    practitioner = relationship("Practitioner")

    __table_args__ = (
        sa.UniqueConstraint("practitioner_id", "author_id", name="uq_reviews_one_per_client"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    def outbox_practitioner_id(self) -> int:
        return self.practitioner_id


class ReviewRevision(Model):
    """An earlier text of an edited review: edits keep their history."""

    __tablename__ = "review_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    body: Mapped[str] = mapped_column(sa.Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewResponse(Model):
    __tablename__ = "review_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    review: Mapped[Review] = relationship(back_populates="response")


class ReviewFlag(Model):
    __tablename__ = "review_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    resolved: Mapped[bool] = mapped_column(default=False)

    # One flag per account per review: a second is a 409, and a crowd of flags means a crowd of accounts.
    __table_args__ = (sa.UniqueConstraint("review_id", "user_id", name="uq_review_flags_one_per_account"),)


class ModerationAction(Model):
    """Who hid or restored a review, when and why."""

    __tablename__ = "review_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    admin: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
