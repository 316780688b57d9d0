"""What a card shows about credentials and ratings, read from the database for the page (never
from the index, so a revocation shows at once)."""

from directory.credentials import present as credentials
from directory.reviews.service import ratings


def for_practitioners(ids: list[int]) -> dict[int, dict]:
    found = credentials.of_practitioners(ids)
    rated = ratings(ids)
    out = {}
    for pid in ids:
        summary = credentials.summary(found[pid])
        out[pid] = {
            "verified": summary["verified"],
            "credentials": [
                {"issuer": c["issuer"]["name"], "title": c["title"], "status": c["status"]}
                for c in summary["credentials"]
            ],
            "rating": {"average": rated[pid]["average"], "count": rated[pid]["count"]},
        }
    return out
