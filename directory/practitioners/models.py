from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.catalog.models import ClientGroup, Condition, Technique
from directory.extensions import Model, db
from directory.timeutil import UTCDateTime, now_utc


def _link_table(name: str, target: str) -> sa.Table:
    return sa.Table(
        name,
        db.metadata,
        sa.Column("practitioner_id", sa.ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(f"{target}_id", sa.ForeignKey(f"{target}s.id", ondelete="CASCADE"), primary_key=True),
    )


practitioner_techniques = _link_table("practitioner_techniques", "technique")
practitioner_conditions = _link_table("practitioner_conditions", "condition")
practitioner_client_groups = _link_table("practitioner_client_groups", "client_group")


class Practitioner(Model):
    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    # The name on their licences, which rosters and admins compare; public only inside signed records
    # and the credential lookup, as state licence lookups already publish it.
    legal_name: Mapped[str | None] = mapped_column(sa.String(200))
    headline: Mapped[str] = mapped_column(sa.String(200), default="")
    approach: Mapped[str] = mapped_column(sa.Text, default="")
    practicing_since: Mapped[int | None] = mapped_column(sa.SmallInteger)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    accepting_clients: Mapped[bool] = mapped_column(default=False)
    accepting_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mobile: Mapped[bool] = mapped_column(default=False)
    # Whole US dollars per session.
    price_min: Mapped[int | None] = mapped_column(sa.Integer)
    price_max: Mapped[int | None] = mapped_column(sa.Integer)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    website: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    user = relationship("User", back_populates="practitioner")
    techniques: Mapped[list[Technique]] = relationship(
        secondary=practitioner_techniques, order_by=Technique.name
    )
    conditions: Mapped[list[Condition]] = relationship(
        secondary=practitioner_conditions, order_by=Condition.name
    )
    client_groups: Mapped[list[ClientGroup]] = relationship(
        secondary=practitioner_client_groups, order_by=ClientGroup.name
    )
    locations: Mapped[list["PracticeLocation"]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="PracticeLocation.id"
    )

    def outbox_practitioner_id(self) -> int:
        return self.id


class PracticeLocation(Model):
    __tablename__ = "practice_locations"
    # Places are deleted by id: SQLite must never hand a deleted id to a newer place, or a client
    # retrying a DELETE could remove the wrong one (PostgreSQL sequences never reuse).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="US")
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    # "coordinates" when given directly, else where the geocoder found it ("gazetteer", "online").
    geocoded_from: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    practitioner: Mapped[Practitioner] = relationship(back_populates="locations")

    def outbox_practitioner_id(self) -> int:
        return self.practitioner_id
