"""The Blueprint every API module uses: flask-smorest's, with a request parser that reads JSON bodies
safely. A body Python cannot turn into values (nested deeper than its recursion limit, an integer of
more than 4300 digits) is malformed (400) instead of a crash (500); text in it that cannot be stored (a
NUL, a lone surrogate) is refused (422) with the fields that hold it, before any schema or service
sees it."""

import json

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser, abort

from directory.schemas_base import unstorable


class MalformedJSON(json.JSONDecodeError):
    """Well-formed JSON that Python cannot read into values; its message says why."""

    def __init__(self, reason: str):
        # A non-empty document: webargs treats an empty one as "no body" rather than a malformed one.
        super().__init__(reason, "-", 0)
        self.reason = reason


class BoundedParser(FlaskParser):
    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            raise MalformedJSON("The JSON is nested too deeply.") from exc
        except json.JSONDecodeError:
            raise
        except ValueError as exc:
            # int() refuses more than 4300 digits (sys.int_max_str_digits: the conversion is quadratic).
            raise MalformedJSON("A number in the JSON has too many digits.") from exc

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        reason = error.reason if isinstance(error, MalformedJSON) else "Invalid JSON body."
        abort(400, exc=error, messages={"json": [reason]})

    def pre_load(self, location_data, *, schema, req, location):
        if location == "json" and (found := unstorable(location_data)):
            raise ma.ValidationError(found if isinstance(found, dict) else {"_schema": found})
        return super().pre_load(location_data, schema=schema, req=req, location=location)


# The OpenAPI note on every operation that needs a bearer token (`api_login_required`).
SECURED: dict[str, list] = {"security": [{"bearerAuth": []}]}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BoundedParser()
