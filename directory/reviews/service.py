"""Review rules: who may write, verified clients through invites, one per client, responses,
flags, moderation, and the ratings everyone sees (always from visible reviews only)."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import InstrumentedAttribute

from directory.accounts import confirmation
from directory.accounts.models import User
from directory.extensions import db
from directory.logs import security_event
from directory.practitioners.models import Practitioner
from directory.reviews import invites
from directory.reviews.models import (
    ModerationAction,
    Review,
    ReviewFlag,
    ReviewResponse,
    ReviewRevision,
)
from directory.rules import Data, RuleError
from directory.timeutil import now_utc

# Bayesian average: every practitioner starts with PRIOR_WEIGHT imaginary reviews at PRIOR_MEAN, so one
# 5-star review (3.75) does not outrank fifty 4.8s (4.68).
PRIOR_MEAN, PRIOR_WEIGHT = 3.5, 5


def _hourly(
    model: type[Review] | type[ReviewFlag],
    column: InstrumentedAttribute[int],
    user: User,
    limit_key: str,
    noun: str,
) -> None:
    """Per-account hourly limits counted in the database, so every worker enforces the same."""
    limit = current_app.config[limit_key]
    since = now_utc() - timedelta(hours=1)
    times = db.session.scalars(
        sa.select(model.created_at)
        .where(column == user.id, model.created_at > since)
        .order_by(model.created_at)
        .limit(limit)
    ).all()
    if len(times) >= limit:
        retry = int((times[0] + timedelta(hours=1) - now_utc()).total_seconds()) + 1
        raise RuleError(429, f"At most {limit} {noun} an hour; try again later.", retry_after=max(retry, 1))


def reviewable(practitioner_id: int) -> Practitioner:
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise RuleError(404, "No practitioner with that id.")
    return practitioner


def write(user: User, practitioner_id: int, data: Data) -> Review:
    if user.role != "client":
        raise RuleError(403, "Only clients write reviews.")
    confirmation.require_confirmed(user)
    practitioner = reviewable(practitioner_id)
    if practitioner.user_id == user.id:
        raise RuleError(403, "You cannot review your own practice.")
    if (
        db.session.scalar(
            sa.select(Review.id).where(Review.practitioner_id == practitioner.id, Review.author_id == user.id)
        )
        is not None
    ):
        raise RuleError(409, "You have reviewed this practitioner already; edit your review instead.")
    _hourly(Review, Review.author_id, user, "REVIEWS_PER_HOUR", "reviews")
    invite = invites.redeem(data.get("invite_code"), practitioner, user)
    review = Review(
        practitioner_id=practitioner.id,
        author_id=user.id,
        author_name=data.get("author_name") or "",
        rating=data["rating"],
        body=data["body"],
        verified_client=invite is not None,
        invite_id=invite.id if invite else None,
    )
    db.session.add(review)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # the same client at the same moment
        db.session.rollback()
        raise RuleError(409, "You have reviewed this practitioner already.") from exc
    return review


def edit(user: User, review_id: int, data: Data) -> Review:
    review = db.session.get(Review, review_id)
    if review is None or review.author_id != user.id:
        raise RuleError(404, "No such review of yours.", denied=review is not None)
    db.session.add(
        ReviewRevision(
            review_id=review.id, rating=review.rating, body=review.body, written_at=review.updated_at
        )
    )
    review.rating, review.body = data["rating"], data["body"]
    if data.get("author_name") is not None:
        review.author_name = data["author_name"]
    db.session.commit()
    return review


def respond(user: User, review_id: int, body: str) -> ReviewResponse:
    review = db.session.get(Review, review_id)
    if review is None or review.hidden:
        raise RuleError(404, "No such review.")
    if review.practitioner.user_id != user.id:
        raise RuleError(403, "Only the reviewed practitioner may answer a review.")
    if review.response is not None:
        raise RuleError(409, "You have answered this review already.")
    response = ReviewResponse(review_id=review.id, body=body)
    db.session.add(response)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:
        db.session.rollback()
        raise RuleError(409, "You have answered this review already.") from exc
    return response


def flag(user: User, review_id: int, reason: str) -> ReviewFlag:
    review = db.session.get(Review, review_id)
    if review is None or review.hidden:
        raise RuleError(404, "No such review.")
    _hourly(ReviewFlag, ReviewFlag.user_id, user, "FLAGS_PER_HOUR", "flags")
    item = ReviewFlag(review_id=review.id, user_id=user.id, reason=reason)
    db.session.add(item)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # one flag per account per review (a unique constraint)
        db.session.rollback()
        raise RuleError(409, "You have flagged this review already; the moderators will look at it.") from exc
    return item


def moderation_queue() -> list[tuple[Review, int]]:
    """Reviews with open flags, most-flagged first."""
    count = sa.func.count(ReviewFlag.id)
    return [
        tuple(r)
        for r in db.session.execute(
            sa.select(Review, count.label("flags"))
            .join(ReviewFlag, ReviewFlag.review_id == Review.id)
            .where(ReviewFlag.resolved.is_(False))
            .group_by(Review.id)
            .order_by(count.desc(), Review.id)
        )
    ]


def moderate(admin: User, review_id: int, action: str, reason: str) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise RuleError(404, "No such review.")
    if not reason.strip():
        raise RuleError(422, "Give a reason for the record.", field="reason")
    review.hidden = action == "hide"
    db.session.add(
        ModerationAction(
            review_id=review.id, admin_id=admin.id, admin=admin.email, action=action, reason=reason.strip()
        )
    )
    db.session.execute(sa.update(ReviewFlag).where(ReviewFlag.review_id == review.id).values(resolved=True))
    db.session.commit()
    security_event("review.moderation", review_id=review.id, action=action)
    return review


def ratings(practitioner_ids: list[int]) -> dict[int, Data]:
    """Average, count, histogram and Bayesian average of the visible reviews, per practitioner."""
    out: dict[int, Data] = {
        pid: {
            "average": None,
            "count": 0,
            "verified_clients": 0,
            "histogram": {str(n): 0 for n in range(1, 6)},
            "bayes": PRIOR_MEAN,
        }
        for pid in practitioner_ids
    }
    if not practitioner_ids:
        return out
    # One statement: a count per (practitioner, rating), with how many of them are verified clients'.
    verified = sa.func.sum(sa.case((Review.verified_client.is_(True), 1), else_=0))
    for pid, rating, n, by_clients in db.session.execute(
        sa.select(Review.practitioner_id, Review.rating, sa.func.count(), verified)
        .where(Review.practitioner_id.in_(practitioner_ids), Review.hidden.is_(False))
        .group_by(Review.practitioner_id, Review.rating)
    ):
        out[pid]["histogram"][str(rating)] = n
        out[pid]["verified_clients"] += int(by_clients or 0)
    for summary in out.values():
        counts = summary["histogram"]
        n = sum(counts.values())
        total = sum(int(k) * v for k, v in counts.items())
        summary["count"] = n
        summary["average"] = average(total, n)
        summary["bayes"] = (PRIOR_MEAN * PRIOR_WEIGHT + total) / (PRIOR_WEIGHT + n)
    return out


def average(total: int, n: int) -> float | None:
    """The average rating shown: of the visible reviews, to two places; None without any."""
    return round(total / n, 2) if n else None
