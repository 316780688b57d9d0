"""What the review pages read (the writes and their rules are service.py's): a client's own review of a
practitioner, a practice's reviews with the hidden ones, and the moderators' board."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.reviews.models import ModerationAction, Review, ReviewFlag
from directory.reviews.service import moderation_queue, reviewable
from directory.rules import Data


def own_review(practitioner_id: int, author_id: int) -> Review | None:
    return db.session.scalar(
        sa.select(Review).where(Review.practitioner_id == practitioner_id, Review.author_id == author_id)
    )


def visible_review(review_id: int) -> Review | None:
    """A review anyone may see (and flag); None when there is none or it is hidden."""
    review = db.session.get(Review, review_id)
    return None if review is None or review.hidden else review


def exists(review_id: int) -> bool:
    return db.session.get(Review, review_id) is not None


def _newest_first(page: int, per_page: int, *where: sa.ColumnElement[bool]) -> tuple[int, list[Review]]:
    """One page of the reviews matching `where`, newest first (with their responses), and how many
    match in all: the count rides on each row (a window over the whole match), so a page costs two
    statements however many reviews it shows; only a page past the end counts on its own."""
    total = sa.func.count().over().label("total")
    rows = db.session.execute(
        sa.select(Review, total)
        .where(*where)
        .options(selectinload(Review.response))
        .order_by(Review.created_at.desc(), Review.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    if rows:
        return rows[0].total, [row.Review for row in rows]
    if page == 1:
        return 0, []
    return db.session.scalar(sa.select(sa.func.count()).select_from(Review).where(*where)) or 0, []


def visible(practitioner_id: int, page: int, per_page: int = 10) -> tuple[int, list[Review]]:
    """The reviews anyone may read on a listed practitioner's profile (404 for anyone else)."""
    reviewable(practitioner_id)
    return _newest_first(page, per_page, Review.practitioner_id == practitioner_id, Review.hidden.is_(False))


def of_practice(practitioner_id: int, page: int, per_page: int) -> tuple[int, list[Review]]:
    """Every review of the practice, the hidden ones too (its owner sees what was hidden), newest first."""
    return _newest_first(page, per_page, Review.practitioner_id == practitioner_id)


def moderation_board() -> Data:
    """The flagged reviews (most-flagged first) with their open flags, and the hidden reviews with the
    last moderation action on each."""
    queue = moderation_queue()
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
    return {"queue": queue, "flags": flags, "hidden": list(hidden), "last_action": last_action}
