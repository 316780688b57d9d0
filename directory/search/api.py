# flask-smorest ships no type information, so its decorators read as untyped; nothing else is let off.
# mypy: disable-error-code="untyped-decorator"
from flask import Response, jsonify

from directory.apibase import Blueprint
from directory.search import service
from directory.search.schemas import SearchApiArgs, SearchApiArgsSchema, SearchResponseSchema

blp = Blueprint("search_api", __name__, url_prefix="/api/v1", description="Search")


@blp.route("/search")
@blp.arguments(SearchApiArgsSchema, location="query")
@blp.response(200, SearchResponseSchema)
@blp.alt_response(410, description="The cursor's walk has ended (too old, or another server): start again")
@blp.alt_response(422, description="Invalid parameters, or a place that cannot be found")
@blp.alt_response(503, description="A walk was asked for while the index is rebuilt")
def search(args: SearchApiArgs) -> Response:
    """Find practitioners by problem, place, technique, condition, credentials and rating. A walk
    (`walk=true`, then `cursor`) pages through every result exactly once while the data changes."""
    cursor = args.get("cursor")
    found = (
        service.resume(cursor, args.get("per_page"))
        if cursor
        else service.search(args, walk=bool(args.get("walk")))
    )
    # Sent as the presenter made it: SearchResponseSchema documents it (the contract tests hold the two
    # together), and dumping forty nested objects through it again took a tenth of a search.
    return jsonify(found)
