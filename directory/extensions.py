"""Unbound extension objects only; the factory binds them with init_app."""

import sqlite3
import threading
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from directory.schemas_base import ErrorSchema

# Named constraints so that Alembic migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The embedded database is read through a memory map: a card read then costs no system call per page,
# which at 100,000 practitioners was most of what reading a results page took (a page's twenty
# practitioners sit on pages far apart). 256 MB of address space, not of memory: the kernel's page
# cache holds the pages either way.
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_reads_mapped(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DirectoryApi(Api):
    """flask-smorest without its own HTTPException handler (errors.py owns the one error shape), and
    with an OpenAPI document written when it is first read rather than at start-up.

    Writing the document is half the cost of building the app (every schema of every operation is
    resolved and copied), and most workers never serve it: a worker starts faster, and so does each
    test, which builds an app of its own. The routes themselves are registered at once, as before;
    only the paths of the document wait, and `spec` adds them before anyone reads it.
    """

    # The Error component of the OpenAPI document: the body errors.py sends, request_id included.
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs):
        self._pending: list[tuple] = []
        self._documenting = threading.Lock()
        self._spec: Any = None  # apispec's APISpec, made by init_app
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        if self._pending:
            with self._documenting:
                while self._pending:
                    self._document(*self._pending.pop(0))
        return self._spec

    @spec.setter
    def spec(self, value) -> None:
        # init_app makes a new document for each app: what an earlier app left undocumented is not its own.
        self._pending = []
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        """flask-smorest's own, with the document's part put off (Api.register_blueprint does both)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._pending.append((blp, name, parameters))

    def _document(self, blp, name, parameters) -> None:
        # The pending list is the current app's alone (the setter empties it at each init_app).
        blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
        self._spec.tag({"name": name, "description": blp.description})

    def _register_error_handlers(self):
        pass


def app_object() -> Flask:
    """The app behind Flask's `current_app` proxy, for what outlives the request (threads, caches)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method


def affected(statement: sa.Executable, params: list[dict] | None = None) -> int:
    """How many rows an UPDATE or DELETE matched, in the session's transaction (SQLAlchemy types
    `execute` as returning any Result, and only a cursor's result has a row count)."""
    return cast(sa.CursorResult, db.session.execute(statement, params)).rowcount or 0


def table_of(model: type[Base]) -> sa.Table:
    """A model's table, for bulk statements (the mapper types `__table__` as any FromClause)."""
    return cast(sa.Table, model.__table__)


def refresh_statistics(tables: list[sa.Table]) -> bool:
    """ANALYZE the tables after a bulk load, on PostgreSQL (True when it ran). Its planner otherwise
    keeps the statistics of the empty tables until autovacuum comes round, and plans a sequential scan
    of every place for a card query: a first load test ran three times slower for it. SQLite's
    planner reads no such statistics unless asked, so there is nothing to refresh there."""
    if db.engine.dialect.name != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        quote = connection.dialect.identifier_preparer.quote
        for table in tables:
            connection.execute(sa.text(f"ANALYZE {quote(table.name)}"))  # nosec B608: a model's own table name
    return True


db = SQLAlchemy(model_class=Base)

# Every model's base. At run time it is Flask-SQLAlchemy's `db.Model` (Base with the session's engine
# binding); a type checker cannot follow a class made at run time, so it is told it is Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
mail = Mail()
api = DirectoryApi()
