"""What a card shows about credentials and ratings, from the database. The credential and review
domains fill these in; until they exist every practitioner has none."""

from directory.practitioners.models import Practitioner
from directory.practitioners.present import empty_rating


def for_practitioners(rows: list[Practitioner]) -> dict[int, dict]:
    return {p.id: {"verified": False, "credentials": [], "rating": empty_rating()} for p in rows}
