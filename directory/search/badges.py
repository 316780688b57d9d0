"""What a card shows about credentials and ratings, from the database. The credential and review
domains fill these in; until they exist every practitioner has none."""

from directory.practitioners.present import empty_rating


def for_practitioners(ids: list[int]) -> dict[int, dict]:
    return {pid: {"verified": False, "credentials": [], "rating": empty_rating()} for pid in ids}
