"""The outbox position an index has applied: how far, and which ids it skipped over (gaps).

Applying outbox rows is idempotent (a practitioner's document is rebuilt from the database), so
replaying a row is harmless; skipping one is not, which is why gaps in the outbox ids are remembered.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from directory.search.index.files import Progress
from directory.search.models import SearchOutbox
from directory.timeutil import now_utc

GAP_PATIENCE_SECONDS = 120  # a missing outbox id older than this belonged to a rolled-back transaction


def unapplied(state: Progress) -> sa.ColumnElement[bool]:
    """The outbox rows a progress state has not applied: after its position, or in its gaps."""
    condition = SearchOutbox.id > state["applied"]
    gap_ids = [int(g) for g in state["gaps"]]
    if gap_ids:
        condition = sa.or_(condition, SearchOutbox.id.in_(gap_ids))
    return condition


def advance(state: Progress, seen_ids: Sequence[int]) -> Progress:
    """Move the applied position past the rows just applied, remembering ids skipped over.

    Ids are handed out when a row is inserted but become visible when its transaction commits, so
    a later id can be seen before an earlier one. A skipped id is kept as a gap and looked for
    again until it appears or is old enough to belong to a transaction that rolled back."""
    now = now_utc().timestamp()
    gaps = {g: t for g, t in state["gaps"].items() if now - t < GAP_PATIENCE_SECONDS}
    applied = state["applied"]
    for row_id in seen_ids:
        gaps.pop(str(row_id), None)
        if row_id > applied:
            for missing in range(applied + 1, row_id):
                gaps.setdefault(str(missing), now)
            applied = row_id
    return {"applied": applied, "gaps": gaps}
