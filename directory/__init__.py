"""The application factory: read it as the table of contents of the service."""

from pathlib import Path

from flask import Flask

from directory.config import load_config
from directory.web.routing import LazyRule

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> str:
    """templates/ and migrations/ sit beside the package in a checkout, inside it once installed."""
    beside = PACKAGE_DIR.parent / name
    return str(beside if beside.is_dir() else PACKAGE_DIR / f"_{name}")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=_resource_dir("templates"),
        static_folder="static",
    )
    app.url_rule_class = LazyRule
    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from directory import (
        logs,
        mail,
        models,  # noqa: F401  (the whole schema, for Alembic and relationships)
        openapi,
    )
    from directory.accounts import auth, sessions
    from directory.extensions import api, csrf, db, limiter, login, migrate
    from directory.search import outbox
    from directory.web import headers, inputs
    from directory.web.converters import IdConverter, id_schema

    logs.install(app)
    headers.install(app)
    inputs.install(app)
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=_resource_dir("migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login.init_app(app)
    mail.init_app(app)
    sessions.configure(app, login)
    auth.install_admin_gate(app)
    # The error statuses every operation shares, the Error body and the links: directory/openapi.py.
    api.init_app(app, spec_kwargs={"extra_plugins": [openapi.ContractPlugin()]})
    outbox.catch_up_after_requests(app)
    api.register_converter(IdConverter, id_schema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    outbox.install(db.session)


def register_blueprints(app: Flask) -> None:
    from directory import ops
    from directory.accounts import api as accounts_api
    from directory.accounts import security_views  # noqa: F401  (its routes live on accounts.bp)
    from directory.accounts import views as accounts_views
    from directory.catalog import api as catalog_api
    from directory.credentials import admin_views, attestation_api, roster_api, roster_views
    from directory.credentials import api as credentials_api
    from directory.credentials import views as credentials_views
    from directory.extensions import api, csrf
    from directory.practitioners import api as practitioners_api
    from directory.practitioners import views as practitioners_views
    from directory.reviews import api as reviews_api
    from directory.reviews import views as reviews_views
    from directory.search import api as search_api
    from directory.web import views as web_views

    api_blueprints = (
        accounts_api.blp,
        catalog_api.blp,
        practitioners_api.blp,
        search_api.blp,
        credentials_api.blp,
        roster_api.blp,
        attestation_api.blp,
        reviews_api.blp,
    )
    for blueprint in api_blueprints:
        # The API authenticates by bearer token only, never by cookie, so CSRF cannot reach it.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    page_blueprints = (
        web_views.bp,
        accounts_views.bp,
        practitioners_views.bp,
        credentials_views.bp,
        admin_views.bp,
        roster_views.bp,
        reviews_views.bp,
        attestation_api.wellknown,
        ops.bp,
    )
    for page_blueprint in page_blueprints:
        app.register_blueprint(page_blueprint)


def register_template_helpers(app: Flask) -> None:
    from directory.web.helpers import register_template_helpers as register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from directory.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from directory.cli import directory_cli

    app.cli.add_command(directory_cli)
