# flask-smorest ships no type information, so its decorators read as untyped; nothing else is let off.
# mypy: disable-error-code="untyped-decorator"
from directory.apibase import Blueprint
from directory.search import service
from directory.search.schemas import SearchArgs, SearchArgsSchema, SearchResponseSchema

blp = Blueprint("search_api", __name__, url_prefix="/api/v1", description="Search")


@blp.route("/search")
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchResponseSchema)
@blp.alt_response(422, description="Invalid parameters, or a place that cannot be found")
def search(args: SearchArgs) -> service.SearchResponse:
    """Find practitioners by problem, place, technique, condition, credentials and rating."""
    return service.search(args)
