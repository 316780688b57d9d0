"""Demo reviews: a batch hook, so demo profiles show stars, histograms, answers and verified clients.

Each batch brings a small pool of demo client accounts (no password: they cannot sign in) who
review practitioners of that batch, at most once each, with ratings that lean on a per-practitioner
quality so that the Bayesian ranking has something to tell apart.
"""

from datetime import timedelta

import sqlalchemy as sa

from directory.accounts.models import User
from directory.demo.profiles import record_rng
from directory.extensions import table_of
from directory.reviews.models import Review, ReviewResponse

POOL = 40
OPENERS = (
    "After months of a stiff neck from my desk job, {name} found the knots nobody else could.",
    "I came in with sciatica down one leg and left walking easier after the second session.",
    "Clear explanations, firm but careful pressure, and exercises I actually do at home.",
    "Helped me get back to running after a calf strain; the trigger point work was spot on.",
    "The tension headaches I had every afternoon are much rarer now.",
    "Good session, though I needed a few visits before my lower back settled.",
    "Friendly and on time, but the pressure was more than I wanted this time.",
)
NAMES = ("Sam T.", "Alex R.", "Jordan P.", "Maria G.", "Chris L.", "Priya S.", "", "Dee K.", "Lee W.", "")


def add_reviews(batch) -> None:
    """The hook: client accounts for this batch, then their reviews and a few answers."""
    first = batch.practitioners[0].n if batch.practitioners else 0
    emails = [f"demo-client-{batch.seed}-{first}-{k}@example.org" for k in range(POOL)]
    users = table_of(User)
    client_ids = list(
        batch.connection.execute(
            sa.insert(users).returning(users.c.id, sort_by_parameter_order=True),
            [
                {
                    "email": e,
                    "password_hash": None,  # nosec B105: no password at all
                    "role": "client",
                    "created_at": batch.now,
                    "email_confirmed_at": batch.now,  # demo accounts count as confirmed
                }
                for e in emails
            ],
        ).scalars()
    )
    rows, answers = [], []
    for spec, pid in zip(batch.practitioners, batch.practitioner_ids, strict=True):
        rng = record_rng(batch.seed, spec.n, "reviews")
        quality = rng.uniform(3.2, 5.0)
        count = min(POOL, int(rng.expovariate(1 / 6)))
        for k, author in enumerate(rng.sample(client_ids, count)):
            rating = max(1, min(5, round(rng.gauss(quality, 0.8))))
            text = rng.choice(OPENERS).format(name=spec.display_name.split()[0])
            rows.append(
                {
                    "practitioner_id": pid,
                    "author_id": author,
                    "author_name": rng.choice(NAMES),
                    "rating": rating,
                    "body": text,
                    "verified_client": rng.random() < 0.6,
                    "hidden": False,
                    "created_at": batch.now - timedelta(days=rng.randint(1, 700), minutes=k),
                    "updated_at": batch.now,
                }
            )
            answers.append(rng.random() < 0.3)
    if not rows:
        return
    table = table_of(Review)
    ids = list(
        batch.connection.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    responses = [
        {
            "review_id": rid,
            "body": "Thank you for the kind words, and for doing the homework!",
            "created_at": batch.now,
        }
        for rid, answer in zip(ids, answers, strict=True)
        if answer
    ]
    if responses:
        batch.connection.execute(sa.insert(table_of(ReviewResponse)), responses)
