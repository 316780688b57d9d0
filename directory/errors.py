"""One error shape for every API error (the OpenAPI Error component); HTML pages for the site."""

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from directory.logs import denied, request_id
from directory.rules import RuleError

JSON_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/readyz")
WEBARGS_LOCATIONS = ("json", "query", "form", "files", "headers", "path", "view_args")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _flatten_webargs(messages) -> dict:
    """webargs nests errors by location ({"json": {"field": [...]}}); clients want {field: [...]}."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict = {}
    for location, fields in messages.items():
        if location in WEBARGS_LOCATIONS and isinstance(fields, dict):
            flat.update(fields)
        elif location in WEBARGS_LOCATIONS:
            flat["_schema"] = fields if isinstance(fields, list) else [str(fields)]
        else:
            flat[location] = fields
    return flat


def _default_message(code: int, errors: dict, description: str | None) -> str:
    if code == 400 and errors.get("_schema"):
        return "The request body is not valid JSON." if request.is_json else "The request is malformed."
    if code == 422 and errors:
        return "Some values are not valid: " + ", ".join(sorted(str(k) for k in errors)) + "."
    return description or HTTP_STATUS_CODES.get(code, "Error")


def _text_keys(value):
    """Error keys as text: a multipart part without a name arrives under None, which cannot sit beside
    text keys in a sorted JSON object."""
    if isinstance(value, dict):
        return {("_unnamed" if k is None else str(k)): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def render_error(
    code: int, message: str, errors: dict | list | None = None, headers: dict | None = None
) -> Response:
    status = HTTP_STATUS_CODES.get(code, "Error")
    # The id lets a user quote the failure and an operator find its log lines; never a stack trace.
    rid = request_id()
    # A refused Host (trusted hosts) leaves no URL adapter, so no page can be rendered: answer the shape.
    if wants_json() or request_ctx.url_adapter is None:
        payload = {"code": code, "status": status, "message": message, "request_id": rid}
        if errors:
            payload["errors"] = _text_keys(errors)
        response = jsonify(payload)
    else:
        response = make_response(
            render_template("errors/error.html", code=code, status=status, message=message, request_id=rid)
        )
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _flatten_webargs(data["messages"])
    errors = errors or {}
    code = error.code or 500  # werkzeug's own exceptions all carry one
    message = data.get("message") or _default_message(code, errors, error.description)
    if code in (401, 403):
        denied(code, message)
    headers = dict(data.get("headers") or {})
    # Keep what werkzeug would have sent (Allow on 405, WWW-Authenticate, Retry-After).
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            headers.setdefault(key, value)
    return render_error(code, message, errors, headers)


def handle_rule_error(error: RuleError) -> Response:
    """A service said no: the same shape as any HTTP error, with the fields at fault."""
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    if error.denied:
        denied(error.status, error.message)
    return render_error(error.status, error.message, error.errors, headers)


def register_errorhandlers(app: Flask) -> None:
    # Flask turns an unhandled exception into InternalServerError (logging it first), so the
    # HTTPException handler also gives a 500 the same shape, without a stack trace.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(RuleError, handle_rule_error)
