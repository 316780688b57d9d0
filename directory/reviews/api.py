from flask.views import MethodView

from directory.accounts.auth import api_login_required, api_user
from directory.accounts.schemas import InviteRequestSchema
from directory.apibase import SECURED, Blueprint
from directory.reviews import invites, reading, service
from directory.reviews.schemas import (
    FlagInSchema,
    FlagSchema,
    InviteSchema,
    ModerationInSchema,
    ModerationResultSchema,
    PageArgsSchema,
    ResponseInSchema,
    ResponseSchema,
    ReviewEditSchema,
    ReviewInSchema,
    ReviewPageSchema,
    ReviewSchema,
)

blp = Blueprint("reviews_api", __name__, url_prefix="/api/v1", description="Reviews")


@blp.route("/practitioners/<id:practitioner_id>/reviews")
class PractitionerReviews(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ReviewPageSchema)
    def get(self, args, practitioner_id):
        """Visible reviews, newest first, ten a page, with the practitioner's answer."""
        total, rows = reading.visible(practitioner_id, args["page"])
        return {"total": total, "results": rows}

    @api_login_required()
    @blp.arguments(ReviewInSchema)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(403, description="Only clients with a confirmed email write reviews")
    @blp.alt_response(409, description="One review per client per practitioner")
    @blp.alt_response(429, description="At most 5 reviews an hour")
    @blp.doc(**SECURED)
    def post(self, data, practitioner_id):
        """Write a review (clients with a confirmed email). An unused invite of this practitioner, mailed to
        this account's address, marks it verified."""
        return service.write(api_user(), practitioner_id, data)


@blp.route("/reviews/<id:review_id>", methods=["PUT"])
@api_login_required()
@blp.arguments(ReviewEditSchema)
@blp.response(200, ReviewSchema)
@blp.doc(**SECURED)
def edit_review(data, review_id):
    """Edit your review; the earlier text is kept."""
    return service.edit(api_user(), review_id, data)


@blp.route("/me/review-invites", methods=["POST"])
@api_login_required("practitioner")
@blp.arguments(InviteRequestSchema)
@blp.response(201, InviteSchema)
@blp.alt_response(404, description="No profile saved yet (PUT /api/v1/me/profile first)")
@blp.alt_response(429, description="20 unused invites open already, or 50 made in 30 days")
@blp.doc(**SECURED)
def create_invite(data):
    """Mail a single-use invite, valid 30 days, to a client's address. Only a confirmed account with that
    address can redeem it; the code goes only to the client (the answer never holds it)."""
    return invites.create(api_user(), data["email"])


@blp.route("/reviews/<id:review_id>/response", methods=["POST"])
@api_login_required("practitioner")
@blp.arguments(ResponseInSchema)
@blp.response(201, ResponseSchema)
@blp.alt_response(409, description="Answered already")
@blp.doc(**SECURED)
def respond(data, review_id):
    """Answer a review of yours, once, publicly."""
    return service.respond(api_user(), review_id, data["body"])


@blp.route("/reviews/<id:review_id>/flags", methods=["POST"])
@api_login_required()
@blp.arguments(FlagInSchema)
@blp.response(201, FlagSchema)
@blp.alt_response(409, description="This account has flagged this review already")
@blp.alt_response(429, description="At most 20 flags an hour")
@blp.doc(**SECURED)
def flag(data, review_id):
    """Flag a review for the moderators, with a reason."""
    return service.flag(api_user(), review_id, data["reason"])


@blp.route("/admin/reviews/<id:review_id>/moderation", methods=["POST"])
@api_login_required("admin")
@blp.arguments(ModerationInSchema)
@blp.response(200, ModerationResultSchema)
@blp.doc(**SECURED)
def moderate(data, review_id):
    """Hide or restore a review, with a reason (recorded with who and when). Hidden reviews leave the rating."""
    return service.moderate(api_user(), review_id, data["action"], data["reason"])
