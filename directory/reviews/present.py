"""How reviews read on the pages: the author's name as the public sees it, page counts."""

from math import ceil

from directory.reviews.models import Review


def author(review: Review) -> str:
    # The account's email is never shown: the name the client chose, or nothing that identifies them.
    return review.author_name or "A client"


def page_count(total: int, per_page: int) -> int:
    """At least one page, so an empty list still reads "page 1 of 1"."""
    return max(ceil(total / per_page), 1)


def helpers() -> dict:
    """What the review templates call on each review (dates: the shared formats in directory/timeutil.py)."""
    return {"author": author}
