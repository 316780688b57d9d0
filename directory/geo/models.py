from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import Model
from directory.timeutil import UTCDateTime, now_utc


class GeocodeCache(Model):
    """Answers already found, keyed by the normalised query, so each place is looked up once."""

    __tablename__ = "geocode_cache"

    query: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    label: Mapped[str] = mapped_column(sa.String(300))
    source: Mapped[str] = mapped_column(sa.String(40))
    # The parts a profile location keeps (city, region, postal code, country), as found.
    parts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
