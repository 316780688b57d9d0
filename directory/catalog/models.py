import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import Model

ISSUER_KINDS = ("licensing-board", "certification-board", "training-program")


class Technique(Model):
    __tablename__ = "techniques"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")


class Condition(Model):
    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))


class ClientGroup(Model):
    __tablename__ = "client_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))


class Issuer(Model):
    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32))
    jurisdiction: Mapped[str] = mapped_column(sa.String(16))
    # How the issuer writes its numbers (credentials/numbers.py): the canonical form must match
    # `number_pattern` (ASCII, upper case) once the separators that do not count are removed.
    number_pattern: Mapped[str] = mapped_column(sa.String(200), default=r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
    number_separators: Mapped[str] = mapped_column(sa.String(20), default="")
    number_example: Mapped[str] = mapped_column(sa.String(40), default="")

    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('licensing-board', 'certification-board', 'training-program')", name="kind"
        ),
    )
