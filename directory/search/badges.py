"""What a card shows about credentials and ratings, read from the database for the page (never
from the index, so a revocation shows at once). Two plain queries for the whole page: this runs on
every search, where building ORM objects for twenty practitioners would cost more than the search."""

from datetime import date

import sqlalchemy as sa

from directory.extensions import db
from directory.reviews.service import ratings
from directory.timeutil import today_utc

_IDS = sa.bindparam("ids", expanding=True)
_CREDENTIALS = sa.text(
    "SELECT c.practitioner_id, c.status, c.expires_on, c.title, i.name FROM credentials c "
    "JOIN issuers i ON i.id = c.issuer_id WHERE c.practitioner_id IN :ids AND c.status != 'rejected' "
    "ORDER BY c.id"
).bindparams(_IDS)


def for_practitioners(ids: list[int]) -> dict[int, dict]:
    out = {pid: {"verified": False, "credentials": [], "rating": None} for pid in ids}
    if not ids:
        return out
    today = today_utc()
    for pid, status, expires_on, title, issuer in db.session.execute(_CREDENTIALS, {"ids": ids}):
        if isinstance(expires_on, str):  # SQLite hands a plain SELECT's dates back as text
            expires_on = date.fromisoformat(expires_on)
        if status == "verified" and expires_on is not None and expires_on < today:
            status = "expired"  # the same rule as lifecycle.effective_status, on plain rows
        out[pid]["credentials"].append({"issuer": issuer, "title": title, "status": status})
        out[pid]["verified"] = out[pid]["verified"] or status == "verified"
    for pid, summary in ratings(ids).items():
        out[pid]["rating"] = {"average": summary["average"], "count": summary["count"]}
    return out
