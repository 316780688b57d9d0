"""`<id:name>` in routes: a positive integer that fits the database's integer column, so an id
like 99999999999999999999 is a 404, not an overflow inside PostgreSQL."""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def id_schema(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
