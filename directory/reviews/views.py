"""Review pages: the reviews section of the public profile (reading, writing, flagging), the
practitioner's invites and answers (/account/reviews) and the admins' moderation (/admin/reviews).

The profile page itself belongs to the practitioners blueprint; its template asks for its reviews
through `review_section(p.id)`, a helper this blueprint installs app-wide. A form that fails here
re-renders the profile with its errors (left in `g`, where the helper finds them).
"""

import marshmallow as ma
from flask import Blueprint, abort, g, render_template, request, url_for
from flask_login import current_user

from directory.accounts.auth import page_login_required
from directory.accounts.schemas import InviteRequestSchema
from directory.practitioners import present as practitioner_present
from directory.practitioners import service as practitioners
from directory.reviews import invites, present, reading, service
from directory.reviews.forms import FlagForm, InviteForm, ModerationForm, ResponseForm, ReviewForm
from directory.reviews.schemas import (
    FlagInSchema,
    ModerationInSchema,
    PageArgsSchema,
    ResponseInSchema,
    ReviewInSchema,
)
from directory.timeutil import now_utc
from directory.web.forms import flashed, form_page

bp = Blueprint("reviews", __name__)

PER_PAGE = 10
ACCOUNT_PER_PAGE = 20


def _page() -> int:
    try:
        return PageArgsSchema().load(request.args.to_dict())["page"]
    except ma.ValidationError:
        abort(400)


def review_section(practitioner_id: int) -> dict:
    """Everything the profile's reviews section shows: a page of visible reviews, and the forms
    the visitor may use (left in `g` with their errors by a failed POST)."""
    page = _page()
    total, reviews = reading.visible(practitioner_id, page, PER_PAGE)
    is_client = current_user.is_authenticated and current_user.role == "client"
    own = reading.own_review(practitioner_id, current_user.id) if is_client else None
    invite = request.args.get("invite", "")
    form = g.get("review_form") or ReviewForm(formdata=None, data={"invite_code": invite})
    return {
        "page": page,
        "pages": present.page_count(total, PER_PAGE),
        "total": total,
        "reviews": reviews,
        "own": own,
        "can_write": is_client and own is None,
        "form": form,
        "failed": g.get("review_form") is not None,
        "invite": invite,
        "flag_form": g.get("flag_form"),
        "flag_for": g.get("flag_for"),
        "blank_flag": FlagForm(formdata=None),
        "author": present.author,
    }


@bp.app_context_processor
def _profile_helpers() -> dict:
    return {"review_section": review_section}


def _profile_page(practitioner_id: int, status: int, headers: dict | None = None):
    practitioner = practitioners.get_public(practitioner_id)
    html = render_template("practitioners/profile.html", p=practitioner_present.public_view(practitioner))
    return html, status, headers or {}


def _profile_url(practitioner_id: int, anchor: str = "reviews", **args) -> str:
    return url_for("practitioners.profile", practitioner_id=practitioner_id, **args) + f"#{anchor}"


def _published(practitioner_id: int, review):
    note = " It carries the verified-client mark." if review.verified_client else ""
    return flashed(
        _profile_url(practitioner_id, f"review-{review.id}"), f"Thank you: your review is published.{note}"
    )


@bp.route("/practitioners/<id:practitioner_id>/reviews", methods=["POST"])
@page_login_required()
def write(practitioner_id: int):
    """A client writes a review from the profile page."""
    form = ReviewForm()

    def again(outcome):
        g.review_form = form
        return _profile_page(practitioner_id, outcome.status, outcome.headers)

    return form_page(
        form,
        ReviewInSchema(),
        lambda data: service.write(current_user, practitioner_id, data),
        done=lambda review: _published(practitioner_id, review),
        again=again,
    )


@bp.route("/reviews/<id:review_id>/flags", methods=["POST"])
@page_login_required()
def flag(review_id: int):
    """Anyone signed in may ask the moderators to look at a review."""
    review = reading.visible_review(review_id)
    if review is None:
        abort(404)
    practitioner_id = review.practitioner_id
    page = request.args.get("page", type=int)
    form = FlagForm()

    def again(outcome):
        g.flag_form, g.flag_for = form, review_id
        return _profile_page(practitioner_id, outcome.status, outcome.headers)

    return form_page(
        form,
        FlagInSchema(),
        lambda data: service.flag(current_user, review_id, data["reason"]),
        done=lambda _: flashed(
            _profile_url(practitioner_id, f"review-{review_id}", **({"page": page} if page else {})),
            "Thank you: the moderators will look at this review.",
            "info",
        ),
        again=again,
    )


# ---- the practitioner's own: invites and answers -------------------------------------------------


def _render_account(new_invite=None, invite_form=None, response_form=None, response_for=None, status=200):
    practitioner = practitioners.profile_of(current_user)
    context = {
        "practitioner": practitioner,
        "new_invite": new_invite,
        "invite_form": invite_form or InviteForm(formdata=None),
        "response_form": response_form,
        "response_for": response_for,
        "blank_response": ResponseForm(formdata=None),
        "now": now_utc(),
        **present.helpers(),
    }
    if practitioner is not None:
        page = _page()
        total, reviews = reading.of_practice(practitioner.id, page, ACCOUNT_PER_PAGE)
        context.update(
            invites=invites.of(current_user),
            reviews=reviews,
            total=total,
            page=page,
            pages=present.page_count(total, ACCOUNT_PER_PAGE),
            rating=service.ratings([practitioner.id])[practitioner.id],
        )
    return render_template("reviews/mine.html", **context), status


@bp.route("/account/reviews")
@page_login_required("practitioner")
def mine():
    """Your invite codes and the reviews of your practice, with a form to answer each."""
    return _render_account()


@bp.route("/account/reviews/invites", methods=["POST"])
@page_login_required("practitioner")
def create_invite():
    form = InviteForm()
    return form_page(
        form,
        InviteRequestSchema(),
        lambda data: invites.create(current_user, data["email"]),
        done=lambda invite: _render_account(new_invite=invite, status=201),
        again=lambda outcome: _render_account(invite_form=form, status=outcome.status),
    )


@bp.route("/account/reviews/<id:review_id>/response", methods=["POST"])
@page_login_required("practitioner")
def respond(review_id: int):
    form = ResponseForm()
    return form_page(
        form,
        ResponseInSchema(),
        lambda data: service.respond(current_user, review_id, data["body"]),
        done=lambda _: flashed(
            url_for(".mine") + f"#review-{review_id}", "Your answer is published under the review."
        ),
        again=lambda outcome: _render_account(
            response_form=form, response_for=review_id, status=outcome.status
        ),
    )


# ---- moderation ------------------------------------------------------------------------------------


def _render_moderation(form=None, form_for=None, status=200):
    return render_template(
        "reviews/moderation.html",
        **reading.moderation_board(),
        form=form,
        form_for=form_for,
        blank=ModerationForm(formdata=None),
        **present.helpers(),
    ), status


@bp.route("/admin/reviews")
@page_login_required("admin")
def moderation():
    """Review moderation: flagged reviews, most-flagged first, and the hidden ones."""
    return _render_moderation()


def _moderated(review):
    done = "hidden: it no longer counts" if review.hidden else "visible, and its flags are cleared"
    return flashed(url_for(".moderation"), f"Review #{review.id} is {done}.")


@bp.route("/admin/reviews/<id:review_id>/moderation", methods=["POST"])
@page_login_required("admin")
def moderate(review_id: int):
    form = ModerationForm()

    def again(outcome):
        if not reading.exists(review_id):
            abort(404)
        return _render_moderation(form, review_id, outcome.status)

    return form_page(
        form,
        ModerationInSchema(),
        lambda data: service.moderate(current_user, review_id, data["action"], data["reason"]),
        done=_moderated,
        again=again,
    )
