"""One migrated database per test session (per worker), put back to its just-migrated state after every
test that built an app.

The real migrations run once; what a test changed is then undone the cheapest way each engine allows:
on SQLite the database file is replaced by a copy of the just-migrated one (a file copy, no SQL); on
PostgreSQL one query reads a fingerprint of every table and sequence, and only the tables whose
fingerprint moved (with the tables that point at them) are truncated and given back their seed rows.
Both work whatever the test did: several apps, threads, other processes, real commits.
"""

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from directory.extensions import db


def drop_everything(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    meta.drop_all(bind=engine)


@dataclass
class Snapshot:
    """The just-migrated state: the schema read once, the seed rows, and (SQLite) a copy of the file."""

    tables: list[sa.Table]
    rows: dict[str, list[dict]]
    template: Path | None = None
    fingerprint: dict[str, str] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)
    sequence_owner: dict[str, str] = field(default_factory=dict)


def migrate_and_snapshot(app) -> Snapshot:
    with app.app_context():
        engine = db.engine
        drop_everything(engine)
        upgrade()
        snapshot = take_snapshot(engine)
        engine.dispose()
        return snapshot


def start_from(app, migrated: Path) -> Snapshot:
    """The app's SQLite database made a copy of an already migrated file (no migration runs)."""
    with app.app_context():
        engine = db.engine
        engine.dispose()
        _restore_sqlite(_sqlite_path(engine), migrated)
        snapshot = take_snapshot(engine)
        engine.dispose()
        return snapshot


def migrated_file(app, into: Path) -> Path:
    """A just-migrated SQLite file at `into`, for start_from in later sessions."""
    migrate_and_snapshot(app)
    with app.app_context():
        shutil.copyfile(_sqlite_path(db.engine), into)
        db.engine.dispose()
    return into


def take_snapshot(engine: sa.Engine) -> Snapshot:
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    tables = meta.sorted_tables
    with engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in tables}
        snapshot = Snapshot(tables, {name: found for name, found in rows.items() if found})
        if engine.dialect.name == "sqlite":
            snapshot.template = _copy_of(conn, _sqlite_path(engine))
        else:
            snapshot.fingerprint = _fingerprint(conn, tables)
            snapshot.sequence_owner = _sequences(conn)
            for sequence in snapshot.sequence_owner:
                query = sa.text(f'SELECT last_value, is_called FROM "{sequence}"')  # noqa: S608
                snapshot.sequences[sequence] = tuple(conn.execute(query).one())
    return snapshot


def restore(engine: sa.Engine, snapshot: Snapshot) -> None:
    """Put the database back as `snapshot` found it. Call with no connection checked out; on SQLite the
    file is replaced, so other engines on it must be disposed too (this one is)."""
    if snapshot.template is not None:
        _restore_sqlite(_sqlite_path(engine), snapshot.template)
        engine.dispose()  # its pooled connections still hold the old file
    else:
        _restore_postgresql(engine, snapshot)


def _sqlite_path(engine: sa.Engine) -> Path:
    return Path(engine.url.database)


def _copy_of(conn, path: Path) -> Path:
    """A consistent copy of the database file next to it, through SQLite's own backup."""
    copies = sorted(path.parent.glob(f"{path.name}.snapshot-*"))
    template = path.with_name(f"{path.name}.snapshot-{len(copies)}")
    with sqlite3.connect(template) as target:
        conn.connection.dbapi_connection.backup(target)
    target.close()
    return template


def _restore_sqlite(path: Path, template: Path) -> None:
    # A fresh file renamed over the old one: a connection some thread still holds keeps the old file
    # (and can no longer reach the next test's data), and nothing half-copied is ever seen.
    fresh = path.with_suffix(".fresh")
    shutil.copyfile(template, fresh)
    for leftover in (Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)  # a hot journal would be played back into the fresh file
    os.replace(fresh, path)


def _fingerprint(conn, tables: list[sa.Table]) -> dict[str, str]:
    """Per table, a digest of its rows, and where each of its sequences stands; in one round trip."""
    parts = [
        f"SELECT '{t.name}' AS k, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS v "  # noqa: S608
        f'FROM "{t.name}" AS x'
        for t in tables
    ]
    parts += [
        f"SELECT '{table}', last_value::text || ':' || is_called::text FROM \"{sequence}\""  # noqa: S608
        for sequence, table in _sequences(conn).items()
    ]
    found: dict[str, str] = {}
    for key, value in conn.execute(sa.text(" UNION ALL ".join(parts))):
        found[key] = f"{found.get(key, '')}{value}"
    return found


def _sequences(conn) -> dict[str, str]:
    """Each sequence a table owns (serial and identity columns), by name, with its table's name."""
    query = sa.text(
        "SELECT s.relname, t.relname FROM pg_class s"
        " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace"
    )
    return dict(conn.execute(query).tuples().all())


def _restore_postgresql(engine: sa.Engine, snapshot: Snapshot) -> None:
    tables = snapshot.tables
    with engine.begin() as conn:
        now = _fingerprint(conn, tables)
        changed = {t.name for t in tables if now.get(t.name) != snapshot.fingerprint.get(t.name)}
        if not changed:
            return
        # TRUNCATE ... CASCADE also empties the tables that point at these: name them, so that their
        # seed rows come back and their sequences are put back too.
        while referencing := {
            t.name
            for t in tables
            if t.name not in changed and any(fk.column.table.name in changed for fk in t.foreign_keys)
        }:
            changed |= referencing
        touched = [t for t in tables if t.name in changed]
        names = ", ".join(f'"{t.name}"' for t in touched)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # noqa: S608
        for table in touched:
            if rows := snapshot.rows.get(table.name):
                conn.execute(table.insert(), rows)
        for sequence, (last_value, is_called) in snapshot.sequences.items():
            if snapshot.sequence_owner[sequence] in changed:
                query = sa.text("SELECT setval(CAST(:name AS regclass), :value, :called)")
                conn.execute(query, {"name": f'"{sequence}"', "value": last_value, "called": is_called})


@contextmanager
def worker_database(shared_url: str, worker: str) -> Iterator[str]:
    """A PostgreSQL database of this test worker's own, named after the suite's, dropped at the end."""
    url = sa.engine.make_url(shared_url)
    own = url.set(database=f"{url.database}_{worker}")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        admin.dispose()
