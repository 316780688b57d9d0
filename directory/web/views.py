from typing import Any

import marshmallow as ma
from flask import Blueprint, current_app, render_template, request

from directory.catalog import present as catalog
from directory.rules import RuleError
from directory.search import service as search
from directory.search.schemas import REPEATABLE, SearchArgsSchema

bp = Blueprint("web", __name__)
RADII = (5, 10, 25, 50, 100, 250, 500)


@bp.route("/")
def home():
    """The search page: the same arguments and rules as GET /api/v1/search, rendered as HTML."""
    errors: dict[str, Any] = {}
    result = None
    raw = request.args.to_dict(flat=False)
    # Empty form fields arrive as ""; they mean "not given".
    cleaned = {k: [v for v in vs if v != ""] for k, vs in raw.items()}
    given: dict[str, Any] = {k: (vs if k in REPEATABLE else vs[0]) for k, vs in cleaned.items() if vs}
    status = 200
    try:
        args = SearchArgsSchema().load(given)
        result = search.search(args)
    except ma.ValidationError as exc:
        errors, status = exc.normalized_messages(), 422
    except RuleError as exc:
        errors, status = exc.field_errors, exc.status
    return render_template(
        "web/search.html",
        form=request.args,
        result=result,
        errors=errors,
        vocabulary=catalog.search_filters(),
        radii=RADII,
        tile_url=current_app.config["MAP_TILE_URL"],
        tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
    ), status
