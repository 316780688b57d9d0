"""Reviews API: every bad input is a clear 4xx in the error shape, naming the field, writing nothing;
the rules on who may write, answer, flag and moderate; ratings and ranking from visible reviews."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.reviews import service
from directory.reviews.models import (
    ModerationAction,
    Review,
    ReviewFlag,
    ReviewInvite,
    ReviewResponse,
    ReviewRevision,
)
from directory.timeutil import now_utc
from tests.factories import count, mailed_invite_code

BODY = "Sorted out my shoulder knots in two sessions."


def assert_error(response, status: int, field: str | None = None) -> dict:
    """The one error shape: {code, status, message[, errors: {field: [...]}]}."""
    assert response.status_code == status, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["code"] == status
    assert isinstance(payload["status"], str) and payload["status"]
    assert isinstance(payload["message"], str) and payload["message"]
    if field is not None:
        assert field in payload.get("errors", {}), payload
        assert payload["errors"][field], payload
    return payload


@pytest.fixture
def pract(factory):
    return factory.practitioner(display_name="Robin Hale")


@pytest.fixture
def author(factory):
    user = factory.user("client")
    return user, factory.headers(user)


@pytest.fixture
def review(client, pract, author):
    """A review by `author` of `pract`, written through the API; returns its JSON."""
    written = client.post(
        f"/api/v1/practitioners/{pract.id}/reviews",
        json={"rating": 4, "body": BODY, "author_name": "Sam T."},
        headers=author[1],
    )
    assert written.status_code == 201, written.get_json()
    return written.get_json()


def reviews_url(pract) -> str:
    return f"/api/v1/practitioners/{pract.id}/reviews"


# -- writing: bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"rating": 0, "body": BODY}, "rating", id="rating-0"),
        pytest.param({"rating": 6, "body": BODY}, "rating", id="rating-6"),
        pytest.param({"rating": -1, "body": BODY}, "rating", id="rating-negative"),
        pytest.param({"rating": 3.5, "body": BODY}, "rating", id="rating-3.5"),
        pytest.param({"rating": "five", "body": BODY}, "rating", id="rating-five"),
        pytest.param({"rating": "5", "body": BODY}, "rating", id="rating-string-5"),
        pytest.param({"rating": None, "body": BODY}, "rating", id="rating-null"),
        pytest.param({"rating": True, "body": BODY}, "rating", id="rating-bool"),
        pytest.param({"body": BODY}, "rating", id="rating-missing"),
        pytest.param({"rating": 5, "body": "x" * 19}, "body", id="body-19"),
        pytest.param({"rating": 5, "body": "   " + "x" * 19 + "   "}, "body", id="body-19-padded"),
        pytest.param({"rating": 5, "body": "x" * 5001}, "body", id="body-5001"),
        pytest.param({"rating": 5, "body": " \t\n " * 10}, "body", id="body-whitespace"),
        pytest.param({"rating": 5, "body": ""}, "body", id="body-empty"),
        pytest.param({"rating": 5, "body": 12345678901234567890}, "body", id="body-number"),
        pytest.param({"rating": 5}, "body", id="body-missing"),
        pytest.param({"rating": 5, "body": BODY, "author_name": "n" * 61}, "author_name", id="name-61"),
        pytest.param({"rating": 5, "body": BODY, "stars": 5}, "stars", id="unknown-field"),
    ],
)
def test_bad_review_input_is_422_naming_the_field(client, pract, author, body, field):
    response = client.post(reviews_url(pract), json=body, headers=author[1])
    assert_error(response, 422, field)
    assert count(Review) == 0


@pytest.mark.parametrize("length", [20, 5000])
def test_the_body_limits_are_inclusive(client, pract, author, length):
    response = client.post(reviews_url(pract), json={"rating": 5, "body": "y" * length}, headers=author[1])
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["body"]) == length


def test_unknown_practitioner_is_404(client, pract, author):
    response = client.post(
        f"/api/v1/practitioners/{pract.id + 999}/reviews", json={"rating": 5, "body": BODY}, headers=author[1]
    )
    assert_error(response, 404)
    assert_error(client.get(f"/api/v1/practitioners/{pract.id + 999}/reviews"), 404)
    assert count(Review) == 0


# -- invite codes ---------------------------------------------------------------------------------


def _invite(client, factory, practitioner, email) -> str:
    made = client.post(
        "/api/v1/me/review-invites", json={"email": email}, headers=factory.headers(practitioner.user)
    )
    assert made.status_code == 201, made.get_json()
    assert "code" not in made.get_json()  # mailed to the client only
    return mailed_invite_code(email.strip().lower())


def _used(client, factory, pract, author):
    code = _invite(client, factory, pract, author.email)
    db.session.execute(sa.update(ReviewInvite).values(used_at=now_utc()))
    db.session.commit()
    return code


def _expired(client, factory, pract, author):
    code = _invite(client, factory, pract, author.email)
    db.session.execute(sa.update(ReviewInvite).values(expires_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    return code


def _of_another(client, factory, pract, author):
    return _invite(client, factory, factory.practitioner(), author.email)


def _to_another_address(client, factory, pract, author):
    return _invite(client, factory, pract, "someone.else@example.org")


INVITES = {
    "used": _used,
    "expired": _expired,
    "of-another-practitioner": _of_another,
    "addressed-to-another-email": _to_another_address,
    "unknown": lambda *_: "AbCdEfGh12345678",
    "malformed-short": lambda *_: "abc",
    "malformed-chars": lambda *_: "not a code!<>",
    "malformed-long": lambda *_: "a" * 65,
}


@pytest.mark.parametrize("case", list(INVITES))
def test_bad_invite_codes_are_422_naming_invite_code(client, factory, pract, author, case):
    code = INVITES[case](client, factory, pract, author[0])
    before = count(Review)
    used_before = db.session.scalars(
        sa.select(ReviewInvite.id).where(ReviewInvite.used_at.is_not(None))
    ).all()
    response = client.post(
        reviews_url(pract), json={"rating": 5, "body": BODY, "invite_code": code}, headers=author[1]
    )
    assert_error(response, 422, "invite_code")
    assert count(Review) == before
    db.session.expire_all()
    used_after = db.session.scalars(sa.select(ReviewInvite.id).where(ReviewInvite.used_at.is_not(None))).all()
    assert used_after == used_before, "a refused review must not spend an invite"


def test_a_valid_invite_marks_the_review_verified_and_is_spent(client, factory, pract, author):
    code = _invite(client, factory, pract, author[0].email.upper())
    response = client.post(
        reviews_url(pract), json={"rating": 5, "body": BODY, "invite_code": f"  {code} "}, headers=author[1]
    )
    assert response.status_code == 201 and response.get_json()["verified_client"] is True
    assert db.session.scalar(sa.select(ReviewInvite.used_at)) is not None


# -- who may write --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["practitioner", "admin"])
def test_only_clients_write_reviews(client, factory, pract, role):
    headers = factory.headers(factory.user(role))
    assert_error(client.post(reviews_url(pract), json={"rating": 5, "body": BODY}, headers=headers), 403)
    assert count(Review) == 0


def test_a_practitioner_cannot_review_their_own_practice(client, factory, pract):
    headers = factory.headers(pract.user)
    assert_error(client.post(reviews_url(pract), json={"rating": 5, "body": BODY}, headers=headers), 403)
    assert count(Review) == 0


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "])
def test_no_auth_is_401(client, pract, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(reviews_url(pract), json={"rating": 5, "body": BODY}, headers=headers)
    assert_error(response, 401)
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert count(Review) == 0


def test_a_second_review_is_409(client, pract, author, review):
    again = client.post(
        reviews_url(pract), json={"rating": 1, "body": "Changed my mind entirely."}, headers=author[1]
    )
    assert_error(again, 409)
    assert count(Review) == 1
    assert db.session.get(Review, review["id"]).rating == 4


# -- editing --------------------------------------------------------------------------------------


def test_the_author_edits_and_the_old_text_is_kept(client, pract, author, review):
    edited = client.put(
        f"/api/v1/reviews/{review['id']}",
        json={"rating": 2, "body": "The knots came back after a week."},
        headers=author[1],
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["rating"] == 2
    revisions = db.session.scalars(
        sa.select(ReviewRevision).where(ReviewRevision.review_id == review["id"])
    ).all()
    assert [(r.rating, r.body) for r in revisions] == [(4, BODY)]
    listing = client.get(reviews_url(pract)).get_json()
    assert listing["total"] == 1
    assert listing["results"][0]["body"] == "The knots came back after a week."
    assert listing["results"][0]["author"] == "Sam T."  # no author_name given: kept
    assert client.get(f"/api/v1/practitioners/{pract.id}").get_json()["rating"]["average"] == 2.0

    client.put(
        f"/api/v1/reviews/{review['id']}",
        json={"rating": 3, "body": "Third thoughts, honestly."},
        headers=author[1],
    )
    revisions = db.session.scalars(
        sa.select(ReviewRevision).where(ReviewRevision.review_id == review["id"]).order_by(ReviewRevision.id)
    ).all()
    assert [(r.rating, r.body) for r in revisions] == [(4, BODY), (2, "The knots came back after a week.")]


@pytest.mark.parametrize("who", ["other-client", "practitioner", "admin"])
def test_someone_else_editing_is_404_and_changes_nothing(client, factory, pract, review, who):
    user = pract.user if who == "practitioner" else factory.user("admin" if who == "admin" else "client")
    response = client.put(
        f"/api/v1/reviews/{review['id']}",
        json={"rating": 1, "body": "Someone else's words here."},
        headers=factory.headers(user),
    )
    assert_error(response, 404)
    db.session.expire_all()
    assert db.session.get(Review, review["id"]).body == BODY
    assert count(ReviewRevision) == 0


def test_editing_a_missing_review_is_404_and_bad_edits_are_422(client, author, review):
    missing = client.put(
        f"/api/v1/reviews/{review['id'] + 999}", json={"rating": 1, "body": BODY}, headers=author[1]
    )
    assert_error(missing, 404)
    short = client.put(
        f"/api/v1/reviews/{review['id']}", json={"rating": 1, "body": "short"}, headers=author[1]
    )
    assert_error(short, 422, "body")
    assert_error(client.put(f"/api/v1/reviews/{review['id']}", json={"rating": 1, "body": BODY}), 401)
    assert count(ReviewRevision) == 0


# -- responses ------------------------------------------------------------------------------------


def _hide(client, factory, review_id):
    admin = factory.headers(factory.user("admin"))
    done = client.post(
        f"/api/v1/admin/reviews/{review_id}/moderation",
        json={"action": "hide", "reason": "Spam"},
        headers=admin,
    )
    assert done.status_code == 200
    return admin


def test_the_reviewed_practitioner_answers_once(client, factory, pract, review):
    headers = factory.headers(pract.user)
    url = f"/api/v1/reviews/{review['id']}/response"
    first = client.post(url, json={"body": "  Thank you, Sam!  "}, headers=headers)
    assert first.status_code == 201 and first.get_json()["body"] == "Thank you, Sam!"
    assert_error(client.post(url, json={"body": "And again."}, headers=headers), 409)
    assert count(ReviewResponse) == 1
    listing = client.get(reviews_url(pract)).get_json()
    assert listing["results"][0]["response"]["body"] == "Thank you, Sam!"


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("another-practitioner", 403, None),
        ("client", 403, None),
        ("the-author", 403, None),
        ("admin", 403, None),
        ("anonymous", 401, None),
        ("empty", 422, "body"),
        ("whitespace", 422, "body"),
        ("too-long", 422, "body"),
        ("missing-review", 404, None),
        ("hidden-review", 404, None),
    ],
)
def test_bad_responses(client, factory, pract, author, review, case, status, field):
    url = f"/api/v1/reviews/{review['id']}/response"
    body = {"body": "Thanks for coming in."}
    headers = factory.headers(pract.user)
    if case == "another-practitioner":
        headers = factory.headers(factory.practitioner().user)
    elif case == "client":
        headers = factory.headers(factory.user("client"))
    elif case == "the-author":
        headers = author[1]
    elif case == "admin":
        headers = factory.headers(factory.user("admin"))
    elif case == "anonymous":
        headers = {}
    elif case == "empty":
        body = {"body": ""}
    elif case == "whitespace":
        body = {"body": " \n\t "}
    elif case == "too-long":
        body = {"body": "x" * 2001}
    elif case == "missing-review":
        url = f"/api/v1/reviews/{review['id'] + 999}/response"
    elif case == "hidden-review":
        _hide(client, factory, review["id"])
    assert_error(client.post(url, json=body, headers=headers), status, field)
    assert count(ReviewResponse) == 0


# -- flags ----------------------------------------------------------------------------------------


def test_any_signed_in_user_flags(client, factory, review):
    for role in ("client", "practitioner", "admin"):
        headers = factory.headers(factory.user(role))
        flagged = client.post(
            f"/api/v1/reviews/{review['id']}/flags", json={"reason": "Looks fake"}, headers=headers
        )
        assert flagged.status_code == 201, flagged.get_json()
        assert flagged.get_json()["review_id"] == review["id"]
    assert count(ReviewFlag) == 3


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("hidden-review", 404, None),
        ("missing-review", 404, None),
        ("empty-reason", 422, "reason"),
        ("whitespace-reason", 422, "reason"),
        ("missing-reason", 422, "reason"),
        ("too-long-reason", 422, "reason"),
        ("anonymous", 401, None),
    ],
)
def test_bad_flags(client, factory, review, case, status, field):
    url = f"/api/v1/reviews/{review['id']}/flags"
    body = {"reason": "Looks fake"}
    headers = factory.headers(factory.user("client"))
    if case == "hidden-review":
        _hide(client, factory, review["id"])
    elif case == "missing-review":
        url = f"/api/v1/reviews/{review['id'] + 999}/flags"
    elif case == "empty-reason":
        body = {"reason": ""}
    elif case == "whitespace-reason":
        body = {"reason": "     "}
    elif case == "missing-reason":
        body = {}
    elif case == "too-long-reason":
        body = {"reason": "x" * 501}
    elif case == "anonymous":
        headers = {}
    assert_error(client.post(url, json=body, headers=headers), status, field)
    assert count(ReviewFlag) == 0


# -- moderation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("client", 403, None),
        ("practitioner", 403, None),
        ("the-reviewed-practitioner", 403, None),
        ("anonymous", 401, None),
        ("missing-reason", 422, "reason"),
        ("empty-reason", 422, "reason"),
        ("whitespace-reason", 422, "reason"),
        ("unknown-action", 422, "action"),
        ("missing-action", 422, "action"),
        ("missing-review", 404, None),
    ],
)
def test_bad_moderation(client, factory, pract, review, case, status, field):
    url = f"/api/v1/admin/reviews/{review['id']}/moderation"
    body = {"action": "hide", "reason": "Spam"}
    headers = factory.headers(factory.user("admin"))
    if case in ("client", "practitioner"):
        headers = factory.headers(factory.user(case))
    elif case == "the-reviewed-practitioner":
        headers = factory.headers(pract.user)
    elif case == "anonymous":
        headers = {}
    elif case == "missing-reason":
        body = {"action": "hide"}
    elif case == "empty-reason":
        body = {"action": "hide", "reason": ""}
    elif case == "whitespace-reason":
        body = {"action": "hide", "reason": "   "}
    elif case == "unknown-action":
        body = {"action": "delete", "reason": "Spam"}
    elif case == "missing-action":
        body = {"reason": "Spam"}
    elif case == "missing-review":
        url = f"/api/v1/admin/reviews/{review['id'] + 999}/moderation"
    assert_error(client.post(url, json=body, headers=headers), status, field)
    db.session.expire_all()
    assert db.session.get(Review, review["id"]).hidden is False
    assert count(ModerationAction) == 0


def test_restore_brings_the_review_and_its_rating_back(client, factory, pract, review):
    other = factory.headers(factory.user("client"))
    flagged = client.post(
        f"/api/v1/reviews/{review['id']}/flags", json={"reason": "Looks fake"}, headers=other
    )
    assert flagged.status_code == 201
    admin = _hide(client, factory, review["id"])
    profile = client.get(f"/api/v1/practitioners/{pract.id}").get_json()
    assert profile["rating"]["count"] == 0 and profile["rating"]["average"] is None
    assert client.get(reviews_url(pract)).get_json() == {"total": 0, "results": []}
    assert db.session.scalar(sa.select(ReviewFlag.resolved)) is True

    restored = client.post(
        f"/api/v1/admin/reviews/{review['id']}/moderation",
        json={"action": "restore", "reason": "Checked: genuine"},
        headers=admin,
    )
    assert restored.status_code == 200 and restored.get_json() == {"id": review["id"], "hidden": False}
    profile = client.get(f"/api/v1/practitioners/{pract.id}").get_json()
    assert profile["rating"]["count"] == 1 and profile["rating"]["average"] == 4.0
    assert profile["rating"]["histogram"]["4"] == 1
    listing = client.get(reviews_url(pract)).get_json()
    assert listing["total"] == 1 and listing["results"][0]["id"] == review["id"]
    found = client.get("/api/v1/search", query_string={"min_rating": 4}).get_json()
    assert [r["id"] for r in found["results"]] == [pract.id]
    actions = db.session.scalars(sa.select(ModerationAction).order_by(ModerationAction.id)).all()
    assert [(a.action, a.reason) for a in actions] == [("hide", "Spam"), ("restore", "Checked: genuine")]


# -- ratings and ranking --------------------------------------------------------------------------


def _reviews(factory, practitioner, ratings, hidden=()):
    """Rows straight through the models, each by its own client (one review per client)."""
    rows = [
        Review(
            practitioner_id=practitioner.id,
            author_id=factory.user("client").id,
            rating=rating,
            body=f"Review number {i} of this practice.",
            hidden=i in hidden,
        )
        for i, rating in enumerate(ratings)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_histogram_and_average_count_visible_reviews_only(client, factory, pract):
    _reviews(factory, pract, [5, 4, 4, 2, 1, 1], hidden={4, 5})
    rating = client.get(f"/api/v1/practitioners/{pract.id}").get_json()["rating"]
    assert rating["count"] == 4
    assert rating["histogram"] == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert rating["average"] == 3.75  # (5 + 4 + 4 + 2) / 4; with the hidden 1s it would be 2.83
    listing = client.get(reviews_url(pract)).get_json()
    assert listing["total"] == 4 and sorted(r["rating"] for r in listing["results"]) == [2, 4, 4, 5]
    found = client.get("/api/v1/search", query_string={"min_rating": 3.7}).get_json()
    assert [(r["id"], r["rating"], r["review_count"]) for r in found["results"]] == [(pract.id, 3.75, 4)]


def test_one_five_star_review_does_not_outrank_fifty_at_four_point_eight(client, factory):
    lucky = factory.practitioner(display_name="One Review")
    steady = factory.practitioner(display_name="Fifty Reviews")
    unrated = factory.practitioner(display_name="No Reviews")
    for p in (lucky, steady, unrated):
        factory.location(p)
    _reviews(factory, lucky, [5])
    _reviews(factory, steady, [5] * 40 + [4] * 10)

    summary = service.ratings([lucky.id, steady.id, unrated.id])
    assert summary[lucky.id]["average"] == 5.0 and summary[steady.id]["average"] == 4.8
    # (PRIOR_MEAN * PRIOR_WEIGHT + sum) / (PRIOR_WEIGHT + n), as service.py documents:
    assert (service.PRIOR_MEAN, service.PRIOR_WEIGHT) == (3.5, 5)
    assert summary[lucky.id]["bayes"] == pytest.approx((3.5 * 5 + 5) / 6) == pytest.approx(3.75)
    assert (
        summary[steady.id]["bayes"] == pytest.approx((3.5 * 5 + 240) / 55) == pytest.approx(4.6818, abs=1e-4)
    )
    assert summary[unrated.id]["bayes"] == 3.5

    found = client.get("/api/v1/search", query_string={"sort": "rating"}).get_json()
    assert [r["id"] for r in found["results"]] == [steady.id, lucky.id, unrated.id]
    assert [(r["rating"], r["review_count"]) for r in found["results"]] == [(4.8, 50), (5.0, 1), (None, 0)]


# -- NUL characters -------------------------------------------------------------------------------

NUL_CASES = [
    pytest.param("review", "body", id="review-body"),
    pytest.param("review", "author_name", id="review-author-name"),
    pytest.param("response", "body", id="response-body"),
    pytest.param("flag", "reason", id="flag-reason"),
]


@pytest.mark.parametrize(("kind", "field"), NUL_CASES)
def test_nul_characters_are_a_422_not_a_500(client, factory, pract, author, review, kind, field):
    text = "Perfectly fine words\u0000 and then some more."
    if kind == "review":
        body = {"rating": 5, "body": BODY, field: text}
        response = client.post(reviews_url(pract), json=body, headers=factory.headers(factory.user("client")))
    elif kind == "response":
        response = client.post(
            f"/api/v1/reviews/{review['id']}/response",
            json={field: text},
            headers=factory.headers(pract.user),
        )
    else:
        response = client.post(f"/api/v1/reviews/{review['id']}/flags", json={field: text}, headers=author[1])
    assert_error(response, 422, field)
