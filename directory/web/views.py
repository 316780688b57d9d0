import sqlalchemy as sa
from flask import Blueprint, render_template, request

from directory.extensions import db
from directory.practitioners.models import Practitioner

bp = Blueprint("web", __name__)
PER_PAGE = 20


@bp.route("/")
def home():
    # A plain, paged list of practitioners until the search page replaces it.
    page = request.args.get("page", 1, type=int)
    page = max(page, 1)
    pagination = db.paginate(
        sa.select(Practitioner).order_by(Practitioner.display_name, Practitioner.id),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("web/home.html", pagination=pagination)
