"""Reading the audit log: one credential's chain oldest first, or the whole log newest first, a page at a time."""

import sqlalchemy as sa

from directory.credentials.models import CredentialEvent
from directory.extensions import db

AUDIT_PAGE = 100
MAX_TRAIL = 5000


def trail(credential_id: int | None) -> list[CredentialEvent]:
    statement = sa.select(CredentialEvent).order_by(CredentialEvent.id)
    if credential_id is not None:
        statement = statement.where(CredentialEvent.credential_id == credential_id)
    return list(db.session.scalars(statement.limit(MAX_TRAIL)))


def recent(credential_id: int | None, before: int | None) -> list[CredentialEvent]:
    statement = sa.select(CredentialEvent).order_by(CredentialEvent.id.desc()).limit(AUDIT_PAGE)
    if credential_id is not None:
        statement = statement.where(CredentialEvent.credential_id == credential_id)
    if before is not None:
        statement = statement.where(CredentialEvent.id < before)
    return list(db.session.scalars(statement))
