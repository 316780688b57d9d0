"""The state contract fuzzing runs against: real objects for generated ids to hit, and who may call.

Built through the API and the test factories, as a user would leave it: a practitioner with a
profile, a place, credentials verified, pending and rejected (with evidence), two reviews (one
answered, one hidden), an invite; a client, a practitioner without a profile yet, an admin.
"""

import io
from dataclasses import dataclass

from tests.factories import PNG, Factory

REVIEW = "Sorted out my shoulder knots in two sessions, and explained what to do at home."
ROLES = ("owner", "newcomer", "client", "admin")


@dataclass
class World:
    factory: Factory
    users: dict
    spares: dict
    tokens: dict[str, str]
    ids: dict[str, list]

    def headers(self, role: str | None, operation) -> dict | None:
        if role is None:
            return None
        # Signing out or changing a password ends the caller's tokens: spend a spare account's.
        token = self.factory.token(self.spares[role]) if ends_sessions(operation) else self.tokens[role]
        return {"Authorization": f"Bearer {token}"}

    def renew(self) -> None:
        """Issue again any token a fuzzed call ended, so that the next operation is not all 401."""
        for role, user in self.users.items():
            bearer = {"Authorization": f"Bearer {self.tokens[role]}"}
            if self.factory.client.get("/api/v1/me", headers=bearer).status_code == 401:
                self.tokens[role] = self.factory.token(user)


def ends_sessions(operation) -> bool:
    return operation.path.startswith("/api/v1/auth/")


def fitting_role(path: str) -> str:
    """Who an operation is for, by its path: that role is drawn most, so fuzzing gets past 401/403."""
    if path.startswith("/api/v1/admin/"):
        return "admin"
    if path.startswith("/api/v1/me/") or path.endswith("/response"):
        return "owner"
    if "/reviews" in path:
        return "client"
    return "owner"


def _api(client, method: str, path: str, token: str | None = None, expect: int = 200, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code == expect, (path, response.status_code, response.get_data(as_text=True))
    return response.get_json()


def _credentials(client, token: str, admin_token: str) -> list[int]:
    """Three credentials with evidence: verified, pending, rejected."""
    ids = []
    for number in ("CMT-1001", "CMT-1002", "CMT-1003"):
        form = {
            "issuer": "camtc",
            "kind": "license",
            "title": "Certified Massage Therapist",
            "number": number,
            "issued_on": "2015-06-01",
            "expires_on": "2035-06-01",
            "evidence": (io.BytesIO(PNG), "licence.png"),
        }
        ids.append(_api(client, "POST", "/api/v1/me/credentials", token, 201, data=form)["id"])
    decide = "/api/v1/admin/credentials/{}/decision"
    _api(client, "POST", decide.format(ids[0]), admin_token, json={"action": "verify"})
    rejection = {"action": "reject", "reason": "The scan is unreadable."}
    _api(client, "POST", decide.format(ids[2]), admin_token, json=rejection)
    return ids


def _reviews(client, practitioner_id: int, tokens: dict, other_client_token: str) -> list[int]:
    """A review answered by the practitioner, and one an admin hid."""
    path = f"/api/v1/practitioners/{practitioner_id}/reviews"
    kept = _api(client, "POST", path, tokens["client"], 201, json={"rating": 5, "body": REVIEW})
    hidden = _api(client, "POST", path, other_client_token, 201, json={"rating": 1, "body": "Not " + REVIEW})
    answer = {"body": "Thank you, glad the stretches help."}
    _api(client, "POST", f"/api/v1/reviews/{kept['id']}/response", tokens["owner"], 201, json=answer)
    moderation = {"action": "hide", "reason": "Off topic."}
    _api(client, "POST", f"/api/v1/admin/reviews/{hidden['id']}/moderation", tokens["admin"], json=moderation)
    return [kept["id"], hidden["id"]]


def build_world(app, people_only: bool = False) -> World:
    """`people_only`: the four callers and nothing else (the stateful run makes its own objects)."""
    client = app.test_client()
    factory = Factory(app, client)
    owner = factory.practitioner(
        display_name="Casey Lin", approach="Trigger point work for desk-job shoulders.", practicing_since=2010
    )
    users = {
        "owner": owner.user,
        "newcomer": factory.user("practitioner"),
        "client": factory.user("client"),
        "admin": factory.user("admin"),
    }
    tokens = {role: factory.token(user) for role, user in users.items()}
    if people_only:
        return World(factory=factory, users=users, spares=users, tokens=tokens, ids={})
    place = factory.location(owner)
    spares = {
        "owner": factory.practitioner(display_name="Spare Practitioner").user,
        "newcomer": factory.user("practitioner"),
        "client": factory.user("client"),
        "admin": factory.user("admin"),
    }
    credentials = _credentials(client, tokens["owner"], tokens["admin"])
    reviews = _reviews(client, owner.id, tokens, factory.token(factory.user("client")))
    _api(
        client,
        "POST",
        "/api/v1/me/review-invites",
        tokens["owner"],
        201,
        json={"email": "a.client@example.org"},
    )
    issuers = [issuer["slug"] for issuer in _api(client, "GET", "/api/v1/issuers")]
    ids = {
        "practitioner_id": [owner.id],
        "location_id": [place.id],
        "credential_id": credentials,
        "review_id": reviews,
        "slug": issuers[:3],
    }
    return World(factory=factory, users=users, spares=spares, tokens=tokens, ids=ids)
