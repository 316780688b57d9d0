"""Per-account hourly limits (5 reviews, 20 flags) counted in the database: every worker sees the same
count, and rows older than an hour stop counting."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.reviews.models import Review, ReviewFlag
from directory.timeutil import now_utc
from tests.factories import count

BODY = "Sorted out my shoulder knots in two sessions."


def assert_limited(response, limit: int, noun: str, at_most: int = 3601, at_least: int = 1) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["code"] == 429 and payload["status"] and str(limit) in payload["message"]
    assert noun in payload["message"]
    retry = int(response.headers["Retry-After"])
    assert at_least <= retry <= at_most
    return retry


def age(model, column, user_id: int, minutes: float) -> None:
    """Move this account's rows back in time, as if written `minutes` ago."""
    db.session.execute(
        sa.update(model).where(column == user_id).values(created_at=now_utc() - timedelta(minutes=minutes))
    )
    db.session.commit()


@pytest.fixture
def practitioners(factory):
    return [factory.practitioner() for _ in range(8)]


@pytest.fixture
def second_worker(make_app):
    """Another app on the same database: a second worker process would be the same."""
    return make_app().test_client()


def write(client, headers, practitioner):
    return client.post(
        f"/api/v1/practitioners/{practitioner.id}/reviews", json={"rating": 5, "body": BODY}, headers=headers
    )


def test_the_sixth_review_in_an_hour_is_429_on_every_worker(client, factory, practitioners, second_worker):
    author = factory.user("client")
    headers = factory.headers(author)
    workers = [client, second_worker, client, second_worker, client]
    for worker, practitioner in zip(workers, practitioners, strict=False):
        assert write(worker, headers, practitioner).status_code == 201
    for worker in (client, second_worker):
        assert_limited(write(worker, headers, practitioners[5]), 5, "reviews", at_least=3500)
    assert count(Review) == 5

    others = factory.headers(factory.user("client"))  # the limit is per account
    assert write(second_worker, others, practitioners[5]).status_code == 201


def test_refused_reviews_do_not_count(client, factory, practitioners):
    headers = factory.headers(factory.user("client"))
    for practitioner in practitioners[:4]:
        assert write(client, headers, practitioner).status_code == 201
    for _ in range(3):  # 409s and 422s write nothing, so they do not use up the hour
        assert write(client, headers, practitioners[0]).status_code == 409
        bad = client.post(
            f"/api/v1/practitioners/{practitioners[4].id}/reviews",
            json={"rating": 9, "body": BODY},
            headers=headers,
        )
        assert bad.status_code == 422
    assert write(client, headers, practitioners[4]).status_code == 201
    assert_limited(write(client, headers, practitioners[5]), 5, "reviews")


def test_reviews_older_than_an_hour_do_not_count(client, factory, practitioners, second_worker):
    author = factory.user("client")
    headers = factory.headers(author)
    for practitioner in practitioners[:5]:
        assert write(client, headers, practitioner).status_code == 201

    age(Review, Review.author_id, author.id, minutes=59)
    retry = assert_limited(write(second_worker, headers, practitioners[5]), 5, "reviews", at_most=62)
    assert retry >= 55  # the oldest leaves the window in about a minute

    age(Review, Review.author_id, author.id, minutes=61)
    assert write(second_worker, headers, practitioners[5]).status_code == 201
    assert write(client, headers, practitioners[6]).status_code == 201
    assert count(Review) == 7


@pytest.fixture
def targets(factory):
    """22 reviews to flag (one flag per account per review, so the hourly limit needs many)."""
    practitioner = factory.practitioner()
    rows = [
        Review(practitioner_id=practitioner.id, author_id=factory.user("client").id, rating=4, body="A" * 30)
        for _ in range(22)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def flag(client, headers, review_id):
    return client.post(f"/api/v1/reviews/{review_id}/flags", json={"reason": "Looks fake"}, headers=headers)


def test_the_twenty_first_flag_in_an_hour_is_429_on_every_worker(client, factory, targets, second_worker):
    flagger = factory.user("client")
    headers = factory.headers(flagger)
    for i in range(20):
        worker = client if i % 2 else second_worker
        assert flag(worker, headers, targets[i]).status_code == 201
    for worker in (client, second_worker):
        assert_limited(flag(worker, headers, targets[20]), 20, "flags", at_least=3500)
    assert count(ReviewFlag) == 20
    assert flag(client, factory.headers(factory.user("practitioner")), targets[0]).status_code == 201


def test_one_flag_per_account_per_review(client, factory, targets):
    headers = factory.headers(factory.user("client"))
    assert flag(client, headers, targets[0]).status_code == 201
    again = flag(client, headers, targets[0])
    assert again.status_code == 409 and again.get_json()["code"] == 409
    assert count(ReviewFlag) == 1
    assert flag(client, factory.headers(factory.user("client")), targets[0]).status_code == 201


def test_flags_older_than_an_hour_do_not_count(client, factory, targets, second_worker):
    flagger = factory.user("client")
    headers = factory.headers(flagger)
    for i in range(20):
        assert flag(client, headers, targets[i]).status_code == 201
    age(ReviewFlag, ReviewFlag.user_id, flagger.id, minutes=59.5)
    assert_limited(flag(second_worker, headers, targets[20]), 20, "flags", at_most=32)
    age(ReviewFlag, ReviewFlag.user_id, flagger.id, minutes=61)
    assert flag(second_worker, headers, targets[21]).status_code == 201
    assert count(ReviewFlag) == 21
