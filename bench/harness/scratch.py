"""Scratch databases and the apps on them: a temporary SQLite file unless an EMPTY database is given,
which is refused if it holds tables (a bench must never write into data someone keeps) and emptied after."""

import tempfile
from pathlib import Path

from bench.harness.processes import step

BENCH_CONFIG = {"SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}


def scratch_app(database_url: str | None, prefix: str, **config):
    """(app, work folder, dialect) on `database_url`, or on a SQLite file in a new work folder."""
    from directory import create_app
    from directory.extensions import db

    work = Path(tempfile.mkdtemp(prefix=prefix))
    url = database_url or f"sqlite:///{work / 'directory.db'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": str(work / "data"), **BENCH_CONFIG, **config}
    )
    with app.app_context():
        import sqlalchemy as sa

        if sa.inspect(db.engine).get_table_names():
            raise SystemExit(f"{database_url} has tables: give an empty scratch database")
        return app, work, db.engine.dialect.name


def drop_tables(app) -> None:
    """Every table the run made, found by reflection (the migrations' own bookkeeping table too)."""
    import sqlalchemy as sa

    from directory.extensions import db

    with app.app_context():
        db.session.remove()
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        meta.drop_all(bind=db.engine)


def demo_app(workdir: Path, count: int, ours=None):
    """The bench's app on its SQLite file in `workdir`, migrated and topped up to exactly `count` demo
    practitioners (seed 1). `ours`, a select of user ids, leaves the bench's own accounts out of the count.
    Returns (app, db_path, url, data_dir, what the generator reported or None)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from directory import create_app
    from directory.demo.generator import generate
    from directory.extensions import db
    from directory.practitioners.models import Practitioner

    db_path, data_dir = workdir / "directory.db", workdir / "data"
    url = f"sqlite:///{db_path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": str(data_dir)})
    with app.app_context():
        upgrade()
        counted = sa.select(sa.func.count(Practitioner.id))
        if ours is not None:
            counted = counted.where(Practitioner.user_id.not_in(ours()))
        existing = db.session.scalar(counted)
        if existing > count:
            raise SystemExit(f"{workdir} holds {existing} demo practitioners, more than --count {count}")
        generated = None
        if existing < count:
            step(f"generating {count - existing} practitioners (seed 1)")
            generated = generate(count - existing, seed=1, progress=True)
            analysed = "; statistics refreshed (ANALYZE)" if generated["statistics_refreshed"] else ""
            step(f"generated in {generated['seconds']:.1f} s{analysed}")
    return app, db_path, url, data_dir, generated


def fresh_database(url: str) -> None:
    """(Re)create the PostgreSQL database the URL names, empty; a SQLite URL needs nothing."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    drop_database(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
