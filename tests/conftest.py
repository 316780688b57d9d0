import os
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from xdist.scheduler import LoadScopeScheduling

from directory import create_app, timeutil
from directory.extensions import db
from tests import dbreset
from tests.factories import Factory

URL_VARIABLE = "DIRECTORY_TEST_DATABASE_URL"
# A just-migrated SQLite file to start from instead of migrating: for runs that start many short test
# sessions on one revision (the mutation run, bench/quality/mutation.py), each would migrate again.
MIGRATED_VARIABLE = "DIRECTORY_TEST_MIGRATED_SQLITE"
# Argon2id at its floor: the real cost is the production default, not what tests measure.
FAST_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


# Modules whose tests share no state (no module-level tally, no world built once for all of them): with
# several workers their tests are dealt out one by one; every other module runs whole on one worker (some
# add up a figure across their tests: the authorisation matrix). The longest modules are here, so that
# neither worker is left with one of them while the other waits.
SPREAD = frozenset(
    {
        "tests/contract/test_openapi_contract.py",
        "tests/credentials/test_badge_rules_shown.py",
        "tests/credentials/test_decisions.py",
        "tests/credentials/test_lifecycle.py",
        "tests/credentials/test_roster.py",
        "tests/credentials/test_uploads.py",
        "tests/reviews/test_api.py",
        "tests/search/test_hostile_input.py",
        "tests/search/test_query_inputs.py",
        "tests/security/test_mass_assignment.py",
        "tests/security/test_odd_input.py",
    }
)


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0]


class ModuleOrTestScheduling(LoadScopeScheduling):
    """xdist's `loadfile` (a module's tests on one worker), but a SPREAD module's tests one by one."""

    def _split_scope(self, nodeid: str) -> str:
        module = _module(nodeid)
        return nodeid if module in SPREAD else module


def pytest_xdist_make_scheduler(config, log):
    return ModuleOrTestScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(config, items):
    """The SPREAD modules' tests last: what is left at the end is short tests that even out the workers."""
    items.sort(key=lambda item: _module(item.nodeid) in SPREAD)


@pytest.fixture(scope="session")
def database(tmp_path_factory, worker_id):
    """The suite's database, migrated once: a file per worker on SQLite (each worker has its own temporary
    folder); on PostgreSQL, with several workers, a database per worker named after the given one, and
    DIRECTORY_TEST_DATABASE_URL pointed at it so that what tests derive from it is the worker's own."""
    shared = os.environ.get(URL_VARIABLE)
    with ExitStack() as stack:
        if shared and worker_id != "master":
            os.environ[URL_VARIABLE] = stack.enter_context(dbreset.worker_database(shared, worker_id))
            stack.callback(os.environ.__setitem__, URL_VARIABLE, shared)
        url = os.environ.get(URL_VARIABLE) or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        app = create_app(_config(url, tmp_path_factory.mktemp("data")))
        migrated = os.environ.get(MIGRATED_VARIABLE)
        if migrated and url.startswith("sqlite:///"):
            yield url, dbreset.start_from(app, Path(migrated))
        else:
            yield url, dbreset.migrate_and_snapshot(app)


def _config(url: str, data_dir) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH": FAST_HASH,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "MAP_TILE_URL": "",  # no test may reach past loopback
        # Suggestions wait for the spelling tables' build, so whether one is offered never depends on timing.
        "SEARCH_SPELLING_WAIT_SECONDS": 10.0,
        # Each test's first search builds its index from nothing: on a loaded machine that outlasts the
        # production wait (3 s) and the answer comes from the database scan. Waiting for the build keeps
        # "answered from the index" from depending on load; a test of the scan sets its own wait.
        "SEARCH_REBUILD_WAIT_SECONDS": 30.0,
    }


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per app: each test builds an app of its own,
    and compiling the pages it renders was a sixth of a page test's time. Jinja keys each entry by the
    template's name and checks the source's checksum on loading it, so an edited template compiles afresh."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = CompiledTemplates()


class SharedEngines:
    """One engine per database URL and options for the whole test process, not one per app. SQLAlchemy
    keeps its compiled statements in the engine (keyed by the engine's own dialect), so an engine per
    test compiled every query afresh, and with a first connection's set-up that was a third of a short
    test's time. Apps with other engine options get an engine of their own. Flask-SQLAlchemy builds its
    engines in `_make_engine` (pinned in pyproject.toml); test_apps_share_one_engine_unless_their_engine_options_differ fails if
    a release stops calling it."""

    def __init__(self):
        self.engines: dict[str, sa.Engine] = {}

    def __call__(self, bind_key, options, app) -> sa.Engine:
        key = repr(sorted(options.items(), key=lambda item: item[0]))
        if key not in self.engines:
            self.engines[key] = sa.engine_from_config(options, prefix="")
        return self.engines[key]


ENGINES = SharedEngines()


@pytest.fixture(scope="session", autouse=True)
def shared_engines():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "_make_engine", ENGINES)
        yield ENGINES
    for engine in ENGINES.engines.values():
        engine.dispose()


class ClosingClient(FlaskClient):
    """Closes each response as a real server does, so what runs once a response has gone (the mail
    queue's sending, directory/mail.py) runs in tests too."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database, tmp_path):
    """Build an app on the test database; extra config per call (several apps = several workers)."""
    url, snapshot = database
    made = []

    def build(**overrides):
        app = create_app({**_config(url, tmp_path / "data"), **overrides})
        app.test_client_class = ClosingClient
        app.jinja_env.bytecode_cache = TEMPLATES
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if made:
        with made[0].app_context():
            dbreset.restore(db.engine, snapshot)
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()

    def forget_identity(sender, **extra):
        # This fixture keeps an app context open and Flask reuses it for test requests, so the
        # user Flask-Login caches in `g` would carry one client's identity into another's request.
        g.pop("_login_user", None)

    request_started.connect(forget_identity, app)
    with app.app_context():
        yield app
    request_started.disconnect(forget_identity, app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory(app, client):
    return Factory(app, client)


class Clock:
    """The one clock every module reads (directory.timeutil.now_utc), moved by the test."""

    def __init__(self, monkeypatch):
        self.offset = timedelta(0)
        monkeypatch.setattr(timeutil, "source", lambda: timeutil._system_now() + self.offset)

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)

    def now(self):
        return timeutil.now_utc()

    def today(self):
        return timeutil.now_utc().date()


@pytest.fixture
def statements(app):
    """Every SQL statement the app runs while the test looks."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
