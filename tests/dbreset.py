"""One migrated database per test session, put back to its just-migrated state after every test.

Migrating once and restoring a snapshot keeps each test on a clean database (as if new) while
running the real migrations, on SQLite and on PostgreSQL alike.
"""

import sqlalchemy as sa
from flask_migrate import upgrade

from directory.extensions import db


def drop_everything(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    meta.drop_all(bind=engine)


def migrate_and_snapshot(app) -> dict[str, list[dict]]:
    with app.app_context():
        drop_everything(db.engine)
        upgrade()
        snapshot = take_snapshot(db.engine)
        db.engine.dispose()
        return snapshot


def take_snapshot(engine: sa.Engine) -> dict[str, list[dict]]:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    snapshot = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            snapshot[table.name] = [dict(r._mapping) for r in conn.execute(sa.select(table))]
    return snapshot


def restore(engine: sa.Engine, snapshot: dict[str, list[dict]]) -> None:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    tables = meta.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # noqa: S608
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
            if "sqlite_sequence" in {r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master"))}:
                conn.execute(sa.text("DELETE FROM sqlite_sequence"))
        for table in tables:
            rows = snapshot.get(table.name)
            if rows:
                conn.execute(table.insert(), rows)
                if engine.dialect.name == "postgresql" and "id" in table.c:
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                            f'(SELECT MAX(id) FROM "{table.name}"))'
                        )
                    )
