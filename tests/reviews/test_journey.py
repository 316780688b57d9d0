"""Invite → verified review → answer → flag → hide: the rating follows, everywhere."""

from tests.factories import mailed_invite_code


def test_review_journey(client, factory):
    practitioner = factory.practitioner(display_name="Robin Hale", approach="Trigger point work for runners.")
    factory.location(practitioner, lat=30.27, lon=-97.74)
    p_headers = factory.headers(practitioner.user)
    author = factory.user("client")
    invite = client.post("/api/v1/me/review-invites", json={"email": author.email}, headers=p_headers)
    assert invite.status_code == 201
    code = mailed_invite_code(author.email)

    c_headers = factory.headers(author)
    body = {
        "rating": 5,
        "body": "Sorted out my shoulder knots in two sessions.",
        "invite_code": code,
        "author_name": "Sam T.",
    }
    written = client.post(f"/api/v1/practitioners/{practitioner.id}/reviews", json=body, headers=c_headers)
    assert written.status_code == 201, written.get_json()
    review = written.get_json()
    assert review["verified_client"] is True and review["rating"] == 5
    again = client.post(f"/api/v1/practitioners/{practitioner.id}/reviews", json=body, headers=c_headers)
    assert again.status_code == 409

    answered = client.post(
        f"/api/v1/reviews/{review['id']}/response", json={"body": "Thank you, Sam!"}, headers=p_headers
    )
    assert answered.status_code == 201
    listing = client.get(f"/api/v1/practitioners/{practitioner.id}/reviews").get_json()
    assert listing["total"] == 1
    assert listing["results"][0]["author"] == "Sam T." and author.email not in str(listing)
    assert listing["results"][0]["response"]["body"] == "Thank you, Sam!"
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["rating"]["average"] == 5.0 and profile["rating"]["count"] == 1
    assert profile["rating"]["histogram"]["5"] == 1
    found = client.get("/api/v1/search", query_string={"min_rating": 4}).get_json()
    assert [r["id"] for r in found["results"]] == [practitioner.id]
    assert found["results"][0]["review_count"] == 1

    flagger = factory.headers(factory.user("client"))
    assert (
        client.post(
            f"/api/v1/reviews/{review['id']}/flags", json={"reason": "Looks fake"}, headers=flagger
        ).status_code
        == 201
    )
    admin = factory.headers(factory.user("admin"))
    hidden = client.post(
        f"/api/v1/admin/reviews/{review['id']}/moderation",
        json={"action": "hide", "reason": "Under review"},
        headers=admin,
    )
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["rating"]["count"] == 0 and profile["rating"]["average"] is None
    assert client.get(f"/api/v1/practitioners/{practitioner.id}/reviews").get_json()["total"] == 0
    assert client.get("/api/v1/search", query_string={"min_rating": 4}).get_json()["total"] == 0
