from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import Model
from directory.timeutil import UTCDateTime, now_utc


class SearchOutbox(Model):
    """One row per change that search must learn of; the index applies rows in id order.

    No foreign key: a row must outlive its practitioner so that the index learns of the deletion.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
