"""Test data through the same services the app uses, with sequences for unique values."""

import itertools
import re
from pathlib import Path

import pyotp
import sqlalchemy as sa

from directory.accounts import service as accounts
from directory.accounts import totp
from directory.accounts.models import User
from directory.credentials import service as credentials
from directory.extensions import db
from directory.practitioners import service as practitioners
from directory.practitioners.schemas import LocationInSchema, ProfileInSchema
from directory.timeutil import now_utc

PASSWORD = "correct horse battery"
# Just enough of a PNG and a PDF for the evidence checks, which read what a file starts with.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_seq = itertools.count(1)


class Factory:
    def __init__(self, app, client):
        self.app = app
        self.client = client

    def user(self, role: str = "client", email: str | None = None, password: str = PASSWORD, confirmed=True):
        """A new account, its email confirmed unless `confirmed=False`."""
        email = email or f"{role}{next(_seq)}@example.org"
        if role == "admin":
            return make_admin(email, password)
        return registered(email, password, role, confirmed)

    def token(self, user, password: str = PASSWORD) -> str:
        body = {"email": user.email, "password": password}
        if db.session.get(User, user.id).totp_secret:
            body["totp"] = totp_code(user)
        response = self.client.post("/api/v1/auth/tokens", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def practitioner(self, user=None, legal_name: str | None = "", **fields):
        """A saved profile; its legal name is the display name unless given (None: none given yet)."""
        user = user or self.user("practitioner")
        data = ProfileInSchema().load({"display_name": f"Practitioner {user.id}", **fields})
        practitioner = practitioners.save_profile(user, data)
        if legal_name is not None:
            credentials.set_legal_name(user, legal_name or practitioner.display_name)
        return practitioner

    def location(self, practitioner, **fields):
        data = LocationInSchema().load({"lat": 30.2672, "lon": -97.7431, "city": "Austin", **fields})
        return practitioners.add_location(practitioner.user, data)

    def login(self, user, password: str = PASSWORD):
        return _sign_in(self.client, user, password)

    def refresh(self, obj):
        db.session.refresh(obj)
        return obj


def registered(email: str, password: str = PASSWORD, role: str = "client", confirmed: bool = True):
    """An account through the registration service, its email confirmed as its owner would (unless not)."""
    user = accounts.register(email, password, role)
    assert user is not None, f"{email} is taken"
    if confirmed:
        user.email_confirmed_at = now_utc()
        db.session.commit()
        db.session.refresh(user)  # loaded, so tests may read it after the app context ends
    return user


def signed_in(app, user, password: str = PASSWORD):
    """A separate browser-like client per person, signed in through the login page."""
    client = app.test_client()
    _sign_in(client, user, password)
    return client


def _sign_in(client, user, password: str):
    """Through the sign-in page, and for an admin with an authenticator, its code page too."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    if db.session.get(User, user.id).totp_secret:
        response = client.post("/account/two-factor", data={"totp": totp_code(user)})
        assert response.status_code == 302, response.get_data(as_text=True)
    return response


def live_grants(kind, user) -> int:
    """How many sessions (WebSession) or API tokens (ApiToken) of `user` have not ended."""
    end = getattr(kind, kind.end_column)
    query = sa.select(sa.func.count()).select_from(kind).where(kind.user_id == user.id, end.is_(None))
    return db.session.scalar(query)


def make_admin(email: str, password: str = PASSWORD):
    """An admin (new, or an existing account promoted) whose authenticator is set up, as admins work."""
    admin = accounts.create_admin(email, password)
    totp.start_enrolment(admin)
    totp.finish_enrolment(admin, authenticator_code(admin.totp_pending))
    return admin


def csrf_signed_in(app, user, password: str = PASSWORD):
    """Like signed_in, for an app with CSRF protection on: each form's token is read from its page."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token_of(client, "/login")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    if db.session.get(User, user.id).totp_secret:
        token = csrf_token_of(client, "/account/two-factor")
        response = client.post("/account/two-factor", data={"totp": totp_code(user), "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf_token_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def totp_code(user) -> str:
    """A valid authenticator code now. A person signs in a few times a minute at most, tests many times a
    second: the kit forgets the last step used so the replay guard (tested on its own) lets it through."""
    user = db.session.get(User, user.id)
    user.totp_last_step = None
    db.session.commit()
    return authenticator_code(user.totp_secret)


def authenticator_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator holding `secret` shows now by the directory's clock (so the `clock` fixture
    moves it too), or `steps_ahead` thirty-second steps later."""
    authenticator = pyotp.TOTP(secret)
    return authenticator.at(int(now_utc().timestamp()) + steps_ahead * authenticator.interval)


def mails_to(recipient: str) -> list[str]:
    """Bodies of the queued mails to `recipient`, oldest first."""
    from directory.accounts.models import MailMessage

    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(MailMessage.body).where(MailMessage.recipient == recipient).order_by(MailMessage.id)
        )
    )


def mailed_invite_code(recipient: str) -> str:
    """The code in the newest invite mailed to `recipient` (the practitioner never sees it)."""
    bodies = [b for b in mails_to(recipient) if "invite=" in b]
    return re.search(r"invite=([A-Za-z0-9_-]+)", bodies[-1]).group(1)


def invite(practitioner, email: str) -> str:
    """An invite from `practitioner` to `email`, through the service; returns the mailed code."""
    from directory.reviews import invites

    invites.create(practitioner.user, email)
    return mailed_invite_code(email)


def committed_rows(*skip: str) -> dict[str, list[tuple]]:
    """Every committed row of every table but `skip`, read on a connection of its own, so nothing the
    session has written and not committed counts."""
    with db.engine.connect() as connection:
        return _rows(connection, skip)


def in_transaction_rows(*skip: str) -> dict[str, list[tuple]]:
    """The same, as the session's own open transaction sees them (its flushed writes included)."""
    return _rows(db.session.connection(), skip)


def _rows(connection, skip) -> dict[str, list[tuple]]:
    return {
        table.name: sorted((tuple(row) for row in connection.execute(sa.select(table))), key=repr)
        for table in db.metadata.sorted_tables
        if table.name not in skip
    }


def submission(**overrides) -> dict:
    """A credential claim as a practitioner fills it in (without the evidence file)."""
    data = {
        "issuer": "camtc",
        "kind": "license",
        "title": "Certified Massage Therapist",
        "number": "CMT-1001",
        "issued_on": "2015-06-01",
        "expires_on": "2030-06-01",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    """How many rows `model` has now, read afresh (another client's request may have written them)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def evidence_dir(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "evidence"


def attest(client, credential_id: int) -> str:
    """The signed record (compact JWS) of a credential, as anyone may fetch it."""
    response = client.get(f"/api/v1/credentials/{credential_id}/attestation")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["jws"]


def search_verified(client) -> list[int]:
    """The ids the public search lists under "verified only"."""
    body = client.get("/api/v1/search", query_string={"verified": "true"}).get_json()
    return [r["id"] for r in body["results"]]
