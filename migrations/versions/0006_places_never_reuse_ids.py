"""places never reuse ids on SQLite

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:20:00

"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL sequences never hand out an id twice; SQLite does without AUTOINCREMENT.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "practice_locations", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("practice_locations", recreate="always"):
        pass
