"""What a load balancer and an operator ask of a node: is the process alive, is it ready for traffic.

Plain Flask routes at the root, outside /api and its OpenAPI document, never rate limited.
`/healthz` touches nothing (a wedged database must not get healthy processes restarted);
`/readyz` checks the database, the index and how far the index lags behind the outbox, and
answers 503 with the same body when the node should get no traffic. Neither body holds a secret.

Also here: the path the access log may print (gunicorn.conf.py), with secrets in a URL's path
(the password-reset link's token) replaced by the name of the route's argument.
"""

import contextlib
import logging
import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from directory.extensions import db, limiter
from directory.search.index import IndexUnavailable
from directory.web.headers import SECRET_ARG_WORDS

bp = Blueprint("ops", __name__)
limiter.exempt(bp)
LOG = logging.getLogger(__name__)
LOG_PATH_KEY = "directory.log_path"
ROUTE_ARG = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")  # <name> or <converter:name>


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    from directory.search.node import node

    max_lag = float(current_app.config["READY_MAX_LAG_SECONDS"])
    body: dict[str, Any] = {
        "status": "ready",
        "database": "ok",
        "index": "ok",
        "lag": {"pending": None, "oldest_seconds": None},
        "max_lag_seconds": max_lag,
    }
    search = node()
    try:
        db.session.execute(sa.select(1))
        lag = search.store.lag()
        body["lag"] = {"pending": lag["pending"], "oldest_seconds": lag["oldest_seconds"]}
    except IndexUnavailable:
        body["index"] = "missing"
    except sa.exc.SQLAlchemyError as exc:
        with contextlib.suppress(Exception):  # a dead connection may not even roll back
            db.session.rollback()
        body["database"] = "unreachable"
        LOG.warning(
            "readyz: database unreachable", extra={"event": "ready.database", "error": type(exc).__name__}
        )
    if body["index"] == "ok":
        try:
            search.searcher()
        except Exception as exc:  # noqa: BLE001 - any failure to read means not ready
            body["index"] = "unreadable"
            LOG.warning(
                "readyz: index unreadable", extra={"event": "ready.index", "error": type(exc).__name__}
            )
    if body["index"] != "ok" and body["database"] == "ok":
        # Nothing routes traffic (hence searches) to an unready node: start the rebuild from here.
        search.rebuild_in_background()
    oldest = body["lag"]["oldest_seconds"]
    lagging = oldest is not None and oldest > max_lag
    if body["database"] != "ok" or body["index"] != "ok" or lagging:
        body["status"] = "not ready"
    return _no_store(jsonify(body)), 200 if body["status"] == "ready" else 503


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def _remember_log_path(response):
    """The access log prints this instead of the raw path (see gunicorn.conf.py)."""
    request.environ[LOG_PATH_KEY] = loggable_path()
    return response


def loggable_path() -> str:
    """The request's path, each path argument whose name says it is secret shown as `<name>`."""
    rule, args = request.url_rule, request.view_args or {}
    secret = [name for name in args if any(word in name.lower() for word in SECRET_ARG_WORDS)]
    if rule is None or not secret:
        return request.path

    def shown(match: re.Match) -> str:
        name = match.group(1)
        return f"<{name}>" if name in secret else str(args.get(name, ""))

    return request.script_root + ROUTE_ARG.sub(shown, rule.rule)
