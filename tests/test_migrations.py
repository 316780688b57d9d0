"""The migrations build exactly the schema the models describe, and seed the catalog."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from directory.catalog.models import ClientGroup, Condition, Issuer, Technique
from directory.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_catalog_is_seeded_from_the_domain_notes(app):
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    assert count(Technique) == 10
    assert count(Condition) == 14
    assert count(ClientGroup) == 5
    assert count(Issuer) == 10
    nmt = db.session.scalar(sa.select(Technique).where(Technique.slug == "neuromuscular-therapy"))
    assert "trigger points" in nmt.description
