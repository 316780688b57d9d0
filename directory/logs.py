"""Structured logs: one JSON line per record, a request id on every request, and security events.

Security events (sign-ins, failures, denials, decisions) go to the `directory.security` logger with an
`event` name and plain fields. Nothing secret is ever passed in; the redacting filter below is the
second line of defence, dropping any field whose name says it could hold a secret.
"""

import logging
import sys
import uuid

from flask import Flask, Response, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

security = logging.getLogger("directory.security")

REQUEST_ID_HEADER = "X-Request-ID"
_ENVIRON_KEY = "directory.request_id"
_IDENTITY_KEY = "directory.identity"
# Field names that must never reach a log line, whatever a caller passes.
_SECRET_WORDS = ("password", "token", "cookie", "authorization", "secret", "totp", "code", "evidence_bytes")


def request_id() -> str | None:
    """This request's id: made here, never taken from the client, so a log line cannot be forged to match."""
    if not has_request_context():
        return None
    rid = request.environ.get(_ENVIRON_KEY)
    if rid is None:
        rid = request.environ[_ENVIRON_KEY] = uuid.uuid4().hex
    return rid


def security_event(event: str, level: int = logging.INFO, **fields) -> None:
    """Log one security event; `fields` are ids, roles and reasons, never secrets or personal text."""
    security.log(level, event, extra={"event": event, **fields})


def denied(status: int, reason: str, **fields) -> None:
    """Every refusal of access (401, 403, another's object) is logged the same way."""
    security_event("access.denied", logging.WARNING, status=status, reason=reason, **fields)


class RequestContextFilter(logging.Filter):
    """Adds the request id, method, path, client address and signed-in user to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if any(word in key.lower() for word in _SECRET_WORDS):
                delattr(record, key)
        if has_request_context():
            record.request_id = request_id()
            record.method = request.method
            record.path = request.path
            record.remote_addr = request.remote_addr
            user = _current_user_fields()
            for key, value in user.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def remember_identity(user_id: int, role: str) -> None:
    """Called where a request's caller is established; logging then never has to query for it
    (a query inside a log call could run in a failed transaction)."""
    request.environ[_IDENTITY_KEY] = {"user_id": user_id, "role": role}


def _current_user_fields() -> dict:
    return request.environ.get(_IDENTITY_KEY) or {}


class _Marker(logging.StreamHandler):
    """Our handler, recognisable so that building a second app does not add a second one."""


def install(app: Flask) -> None:
    from flask.logging import default_handler

    logger = logging.getLogger("directory")
    if not any(isinstance(h, _Marker) for h in logger.handlers):
        handler = _Marker(sys.stderr)
        handler.addFilter(RequestContextFilter())
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
        logger.addHandler(handler)
        logger.removeHandler(default_handler)
    # Also on the security logger itself, so that every handler of its records (a log shipper, the
    # tests' capture) sees the request id and redaction, not only ours.
    if not any(isinstance(f, RequestContextFilter) for f in security.filters):
        security.addFilter(RequestContextFilter())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    app.after_request(_tag_response)


def _tag_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response
