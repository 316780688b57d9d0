"""Review pages: the reviews section of the public profile (reading, writing, flagging), the
practitioner's invites and answers (/account/reviews) and the admins' moderation (/admin/reviews).

The profile page itself belongs to the practitioners blueprint; its template asks for its reviews
through `review_section(p.id)`, a helper this blueprint installs app-wide. A form that fails here
re-renders the profile with its errors (left in `g`, where the helper finds them).
"""

from functools import wraps
from math import ceil

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from directory.accounts.schemas import InviteRequestSchema
from directory.extensions import db, login
from directory.practitioners import present
from directory.practitioners import service as practitioners
from directory.reviews import invites, service
from directory.reviews.forms import FlagForm, InviteForm, ModerationForm, ResponseForm, ReviewForm
from directory.reviews.models import ModerationAction, Review, ReviewFlag
from directory.reviews.schemas import (
    FlagInSchema,
    ModerationInSchema,
    PageArgsSchema,
    ResponseInSchema,
    ReviewInSchema,
)
from directory.timeutil import now_utc
from directory.web.forms import submit

bp = Blueprint("reviews", __name__)

PER_PAGE = 10
ACCOUNT_PER_PAGE = 20


def _page() -> int:
    try:
        return PageArgsSchema().load(request.args.to_dict())["page"]
    except ma.ValidationError:
        abort(400)


def _when(value) -> str:
    return value.strftime("%B %-d, %Y") if value else "—"


def _stamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def review_section(practitioner_id: int) -> dict:
    """Everything the profile's reviews section shows: a page of visible reviews, and the forms
    the visitor may use (left in `g` with their errors by a failed POST)."""
    page = _page()
    total, reviews = service.visible(practitioner_id, page, PER_PAGE)
    own = None
    is_client = current_user.is_authenticated and current_user.role == "client"
    if is_client:
        own = db.session.scalar(
            sa.select(Review).where(
                Review.practitioner_id == practitioner_id, Review.author_id == current_user.id
            )
        )
    invite = request.args.get("invite", "")
    form = g.get("review_form") or ReviewForm(formdata=None, data={"invite_code": invite})
    return {
        "page": page,
        "pages": max(ceil(total / PER_PAGE), 1),
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
        "author": service.public_author,
        "when": _when,
    }


@bp.app_context_processor
def _profile_helpers() -> dict:
    return {"review_section": review_section}


def _profile_page(practitioner_id: int, status: int, headers: dict | None = None):
    practitioner = practitioners.get_public(practitioner_id)
    html = render_template("practitioners/profile.html", p=present.public_view(practitioner))
    return html, status, headers or {}


def _profile_url(practitioner_id: int, anchor: str = "reviews", **args) -> str:
    return url_for("practitioners.profile", practitioner_id=practitioner_id, **args) + f"#{anchor}"


@bp.route("/practitioners/<id:practitioner_id>/reviews", methods=["POST"])
@login_required
def write(practitioner_id: int):
    """A client writes a review from the profile page."""
    form = ReviewForm()
    outcome = submit(form, ReviewInSchema(), lambda data: service.write(current_user, practitioner_id, data))
    if outcome.done:
        review = outcome.result
        note = " It carries the verified-client mark." if review.verified_client else ""
        flash(f"Thank you: your review is published.{note}", "success")
        return redirect(_profile_url(practitioner_id, f"review-{review.id}"))
    g.review_form = form
    return _profile_page(practitioner_id, outcome.status, outcome.headers)


@bp.route("/reviews/<id:review_id>/flags", methods=["POST"])
@login_required
def flag(review_id: int):
    """Anyone signed in may ask the moderators to look at a review."""
    review = db.session.get(Review, review_id)
    if review is None or review.hidden:
        abort(404)
    practitioner_id = review.practitioner_id
    form = FlagForm()
    outcome = submit(form, FlagInSchema(), lambda data: service.flag(current_user, review_id, data["reason"]))
    if outcome.done:
        flash("Thank you: the moderators will look at this review.", "info")
        page = request.args.get("page", type=int)
        return redirect(
            _profile_url(practitioner_id, f"review-{review_id}", **({"page": page} if page else {}))
        )
    g.flag_form, g.flag_for = form, review_id
    return _profile_page(practitioner_id, outcome.status, outcome.headers)


# ---- the practitioner's own: invites and answers -------------------------------------------------


def _practitioner_only() -> None:
    if current_user.role != "practitioner":
        abort(403)


def _render_account(new_invite=None, invite_form=None, response_form=None, response_for=None, status=200):
    practitioner = practitioners.profile_of(current_user)
    context = {
        "practitioner": practitioner,
        "new_invite": new_invite,
        "invite_form": invite_form or InviteForm(formdata=None),
        "response_form": response_form,
        "response_for": response_for,
        "blank_response": ResponseForm(formdata=None),
        "author": service.public_author,
        "when": _when,
        "stamp": _stamp,
        "now": now_utc(),
    }
    if practitioner is not None:
        page = _page()
        where = Review.practitioner_id == practitioner.id
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Review).where(where))
        context.update(
            invites=invites.of(current_user),
            reviews=db.session.scalars(
                sa.select(Review)
                .where(where)
                .order_by(Review.created_at.desc(), Review.id.desc())
                .offset((page - 1) * ACCOUNT_PER_PAGE)
                .limit(ACCOUNT_PER_PAGE)
            ).all(),
            total=total,
            page=page,
            pages=max(ceil(total / ACCOUNT_PER_PAGE), 1),
            rating=service.ratings([practitioner.id])[practitioner.id],
        )
    return render_template("reviews/mine.html", **context), status


@bp.route("/account/reviews")
@login_required
def mine():
    """Your invite codes and the reviews of your practice, with a form to answer each."""
    _practitioner_only()
    return _render_account()


@bp.route("/account/reviews/invites", methods=["POST"])
@login_required
def create_invite():
    _practitioner_only()
    form = InviteForm()
    outcome = submit(form, InviteRequestSchema(), lambda data: invites.create(current_user, data["email"]))
    if outcome.done:
        return _render_account(new_invite=outcome.result, status=201)
    return _render_account(invite_form=form, status=outcome.status)


@bp.route("/account/reviews/<id:review_id>/response", methods=["POST"])
@login_required
def respond(review_id: int):
    _practitioner_only()
    form = ResponseForm()
    outcome = submit(
        form, ResponseInSchema(), lambda data: service.respond(current_user, review_id, data["body"])
    )
    if outcome.done:
        flash("Your answer is published under the review.", "success")
        return redirect(url_for(".mine") + f"#review-{review_id}")
    return _render_account(response_form=form, response_for=review_id, status=outcome.status)


# ---- moderation ------------------------------------------------------------------------------------


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login.unauthorized()
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _render_moderation(form=None, form_for=None, status=200):
    queue = service.moderation_queue()
    ids = [review.id for review, _ in queue]
    flags: dict[int, list[ReviewFlag]] = {i: [] for i in ids}
    if ids:
        for item in db.session.scalars(
            sa.select(ReviewFlag)
            .where(ReviewFlag.review_id.in_(ids), ReviewFlag.resolved.is_(False))
            .order_by(ReviewFlag.created_at, ReviewFlag.id)
        ):
            flags[item.review_id].append(item)
    hidden = db.session.scalars(
        sa.select(Review).where(Review.hidden.is_(True)).order_by(Review.updated_at.desc(), Review.id.desc())
    ).all()
    last_action: dict[int, ModerationAction] = {}
    if hidden:
        for action in db.session.scalars(
            sa.select(ModerationAction)
            .where(ModerationAction.review_id.in_([r.id for r in hidden]))
            .order_by(ModerationAction.id)
        ):
            last_action[action.review_id] = action
    return render_template(
        "reviews/moderation.html",
        queue=queue,
        flags=flags,
        hidden=hidden,
        last_action=last_action,
        form=form,
        form_for=form_for,
        blank=ModerationForm(formdata=None),
        author=service.public_author,
        when=_when,
        stamp=_stamp,
    ), status


@bp.route("/admin/reviews")
@admin_required
def moderation():
    """Review moderation: flagged reviews, most-flagged first, and the hidden ones."""
    return _render_moderation()


@bp.route("/admin/reviews/<id:review_id>/moderation", methods=["POST"])
@admin_required
def moderate(review_id: int):
    form = ModerationForm()
    outcome = submit(
        form,
        ModerationInSchema(),
        lambda data: service.moderate(current_user, review_id, data["action"], data["reason"]),
    )
    if outcome.done:
        review = outcome.result
        done = "hidden: it no longer counts" if review.hidden else "visible, and its flags are cleared"
        flash(f"Review #{review.id} is {done}.", "success")
        return redirect(url_for(".moderation"))
    if db.session.get(Review, review_id) is None:
        abort(404)
    return _render_moderation(form, review_id, outcome.status)
