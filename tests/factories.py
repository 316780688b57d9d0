"""Test data through the same services the app uses, with sequences for unique values."""

import itertools

from directory.accounts import service as accounts
from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.schemas import LocationInSchema, ProfileInSchema

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factory:
    def __init__(self, app, client):
        self.app = app
        self.client = client

    def user(self, role: str = "client", email: str | None = None, password: str = PASSWORD):
        email = email or f"{role}{next(_seq)}@example.org"
        if role == "admin":
            return accounts.create_admin(email, password)
        return accounts.register(email, password, role)

    def token(self, user, password: str = PASSWORD) -> str:
        response = self.client.post("/api/v1/auth/tokens", json={"email": user.email, "password": password})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def practitioner(self, user=None, **fields):
        user = user or self.user("practitioner")
        data = ProfileInSchema().load({"display_name": f"Practitioner {user.id}", **fields})
        return practitioners.save_profile(user, data)

    def location(self, practitioner, **fields):
        data = LocationInSchema().load({"lat": 30.2672, "lon": -97.7431, "city": "Austin", **fields})
        return practitioners.add_location(practitioner.user, data)

    def login(self, user, password: str = PASSWORD):
        response = self.client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def refresh(self, obj):
        db.session.refresh(obj)
        return obj


def signed_in(app, user, password: str = PASSWORD):
    """A separate browser-like client per person, signed in through the login page."""
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
