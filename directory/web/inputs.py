"""Text no request may carry, refused before any view reads it: a NUL or a lone surrogate (see
schemas_base.UNSTORABLE) in the query string, a form field, an uploaded file's name or the path.

PostgreSQL cannot hold a NUL in text, and would answer a lookup by one (a credential number, an issuer,
a search) with an error: a 500. One check here covers the API and the pages, whichever way a view reads
its input (a schema, a form, request.args). JSON bodies are checked where they are parsed, with the
field names the API's schemas use (directory/apibase.py).
"""

from flask import Flask, abort, request

from directory.rules import RuleError
from directory.schemas_base import UNSTORABLE, UNSTORABLE_MESSAGE, shown

FILE_NAME_MESSAGE = "Rename the file: its name holds a NUL character or a lone surrogate."


def _bad(text) -> bool:
    return isinstance(text, str) and UNSTORABLE.search(text) is not None


def refuse_unstorable_text() -> None:
    # A path that holds one names nothing here (no id, slug or token has a NUL).
    if any(_bad(value) for value in (request.view_args or {}).values()):
        abort(404)
    errors: dict = {}
    for fields in (request.args, request.form):
        for name, values in fields.lists():
            if _bad(name) or any(_bad(value) for value in values):
                errors[shown(name)] = [UNSTORABLE_MESSAGE]
    for name, upload in request.files.items(multi=True):
        if _bad(upload.filename):
            errors[shown(name or "")] = [FILE_NAME_MESSAGE]
    if errors:
        raise RuleError(
            422,
            "Some values hold text that cannot be stored: " + ", ".join(sorted(errors)) + ".",
            errors=errors,
        )


def install(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
