"""The kit's promise: whatever a test commits, the next one starts on the just-migrated database."""

from pathlib import Path

import sqlalchemy as sa

from directory.accounts.models import User
from directory.catalog.models import Issuer
from directory.extensions import db
from tests import dbreset
from tests.factories import registered


def catalog() -> list[tuple[str, str]]:
    return db.session.execute(sa.select(Issuer.slug, Issuer.name).order_by(Issuer.slug)).tuples().all()


def test_what_a_test_commits_is_undone_ids_included(app, make_app, database):
    seeded = catalog()
    first = registered("first@example.org").id
    issuer = db.session.scalar(sa.select(Issuer).order_by(Issuer.slug))
    issuer.name = "Renamed by a test"
    db.session.commit()
    with make_app().app_context():  # a second app (another worker) commits too
        registered("second@example.org")

    db.session.remove()
    dbreset.restore(db.engine, database[1])

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert catalog() == seeded
    assert registered("again@example.org").id == first  # the counters start over as well


def test_a_snapshot_taken_mid_test_is_what_restore_goes_back_to(app):
    registered("kept@example.org")
    db.session.remove()
    snapshot = dbreset.take_snapshot(db.engine)
    registered("dropped@example.org")

    db.session.remove()
    dbreset.restore(db.engine, snapshot)

    assert db.session.scalars(sa.select(User.email)).all() == ["kept@example.org"]


def test_a_session_started_from_a_migrated_file_is_the_just_migrated_database(tmp_path):
    from directory import create_app
    from tests.conftest import _config

    def app_on(name: str):
        return create_app(_config(f"sqlite:///{tmp_path / name}", tmp_path / "data"))

    migrated = dbreset.migrated_file(app_on("built.db"), tmp_path / "migrated.db")
    fresh = app_on("session.db")
    snapshot = dbreset.start_from(fresh, migrated)

    with fresh.app_context():
        assert catalog()  # the seeded catalogue came with the copied file
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        registered("kept-only-until-the-reset@example.org")
        db.session.remove()
        dbreset.restore(db.engine, snapshot)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        db.engine.dispose()


def test_apps_share_one_engine_unless_their_engine_options_differ(app, make_app, shared_engines):
    """An engine per test compiled every statement afresh (conftest.SharedEngines): apps built on the
    same database and options get the same engine, whatever Flask-SQLAlchemy release builds them."""
    other = make_app()
    with other.app_context():
        same = db.engine
    assert same is db.engine and same in shared_engines.engines.values()
    with make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_recycle": 600}).app_context():
        assert db.engine is not same
        assert db.engine.pool._recycle == 600


def test_every_spread_module_exists():
    """A module named in conftest.SPREAD that was renamed would quietly run whole on one worker again."""
    from tests.conftest import SPREAD

    root = Path(__file__).resolve().parent.parent
    assert SPREAD and all((root / module).is_file() for module in SPREAD), sorted(SPREAD)
