"""The Blueprint every API module uses: flask-smorest's, with a request parser that refuses JSON nested
deeper than Python's recursion limit as malformed (400) instead of crashing on it (500)."""

import json

import flask_smorest
from webargs.flaskparser import FlaskParser


class BoundedParser(FlaskParser):
    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            # A non-empty document: webargs treats an empty one as "no body" rather than a malformed one.
            raise json.JSONDecodeError("The JSON is nested too deeply.", "[[[", 0) from exc


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = BoundedParser()
