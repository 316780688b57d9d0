"""A small world in which every write operation has something to act on, and a snapshot of every
table to prove that a refused request changed nothing."""

import io
import re
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import sqlalchemy as sa

from directory.accounts import totp
from directory.accounts.models import User
from directory.extensions import db
from tests.factories import PNG, authenticator_code, submission

REVIEW_BODY = "Patient, precise work on an old shoulder injury; I move freely again."
# Columns a request may touch without anything being decided: the idle clock of a token or session.
VOLATILE = {"last_seen_at"}


class World:
    """People and things made on demand, so each test pays only for what its operation acts on.

    practitioner (P): a profile; other (Q): another practitioner whose ids a request might borrow;
    client: reviewed P; newcomer: a client with no review; admin; enrolling: an admin half-way
    through setting up an authenticator."""

    def __init__(self, factory, http):
        self.factory, self.http = factory, http
        self._made: dict = {}
        self._headers: dict = {None: {}}

    def _once(self, name: str, make):
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    def profile(self, who: str = "practitioner"):
        names = {"practitioner": "Pat Kneads", "other": "Quinn Other"}
        return self._once(who, lambda: self.factory.practitioner(display_name=names[who]))

    def user(self, who: str | None):
        if who in ("practitioner", "other"):
            return self.profile(who).user
        if who == "enrolling":
            return self._once(who, self._enrolling)
        if who == "unconfirmed":
            return self._once(who, lambda: self.factory.user("client", confirmed=False))
        return (
            None
            if who is None
            else self._once(who, lambda: self.factory.user(who.replace("newcomer", "client")))
        )

    def headers(self, who: str | None) -> dict:
        if who not in self._headers:
            self._headers[who] = self.factory.headers(self.user(who))
        return self._headers[who]

    def id(self, name: str):
        makers = {
            "practitioner": lambda: self.profile().id,
            "issuer": lambda: "camtc",
            "location": lambda: self.factory.location(self.profile()).id,
            "pending": lambda: self._credential("CMT-1001"),
            "rejected": self._rejected,
            "review": self._review,
        }
        return self._once(f"id:{name}", makers[name])

    def _credential(self, number: str) -> int:
        form = {**submission(number=number), "evidence": (io.BytesIO(PNG), "licence.png")}
        return _ok(self.http.post("/api/v1/me/credentials", data=form, headers=self.headers("practitioner")))[
            "id"
        ]

    def _rejected(self) -> int:
        cid = self._credential("CMT-1002")
        decision = {"action": "reject", "reason": "The scan is unreadable."}
        url = f"/api/v1/admin/credentials/{cid}/decision"
        _ok(self.http.post(url, json=decision, headers=self.headers("admin")))
        return cid

    def _review(self) -> int:
        url = f"/api/v1/practitioners/{self.id('practitioner')}/reviews"
        body = {"rating": 4, "body": REVIEW_BODY}
        return _ok(self.http.post(url, json=body, headers=self.headers("client")))["id"]

    def _enrolling(self):
        admin = self.factory.user("admin")
        totp.reset(admin)
        self._headers["enrolling"] = self.factory.headers(admin)
        _ok(self.http.post("/api/v1/auth/totp", headers=self._headers["enrolling"]))
        return admin

    def enrolment_code(self) -> str:
        return authenticator_code(db.session.get(User, self.user("enrolling").id).totp_pending)

    def confirmation_token(self) -> str:
        """The token of the confirmation link mailed to a new account."""
        from tests.factories import mails_to

        body = mails_to(self.user("unconfirmed").email)[-1]
        return re.search(r"/confirm-email/([\w-]+)", body).group(1)

    def reset_token(self) -> str:
        """The token of a password-reset link for P, as the mail carries it."""
        folder = Path(self.http.application.config["DATA_DIR"]) / "mail"
        seen = set(folder.glob("*.eml")) if folder.exists() else set()
        email = {"email": self.user("practitioner").email}
        _ok(self.http.post("/api/v1/auth/password-reset", json=email), (202,))
        [new] = set(folder.glob("*.eml")) - seen
        message = BytesParser(policy=default).parsebytes(new.read_bytes())
        return re.search(r"/password-reset/([\w-]+)", message.get_body().get_content()).group(1)


def _ok(response, code=(200, 201)):
    assert response.status_code in code, response.get_data(as_text=True)
    return response.get_json()


def snapshot() -> dict:
    """Every row of every table, as the database has it now."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in VOLATILE]
        result = db.session.execute(sa.select(*columns)).mappings()
        rows[table.name] = sorted((tuple((k, _frozen(v)) for k, v in r.items()) for r in result), key=repr)
    return rows


def _frozen(value):
    """JSON columns come back as lists and dicts; rows must be hashable to be compared as sets."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def changes(before: dict, after: dict) -> dict:
    """Only the tables that differ, with the rows gone and the rows new, for a readable failure."""
    diff = {}
    for name in before.keys() | after.keys():
        old, new = set(before.get(name, ())), set(after.get(name, ()))
        if old != new:
            diff[name] = {"gone": sorted(old - new, key=repr), "new": sorted(new - old, key=repr)}
    return diff


def touched(diff: dict) -> dict[str, list[dict]]:
    """The rows a change removed or wrote, per table, as dicts."""
    return {name: [dict(row) for row in d["gone"] + d["new"]] for name, d in diff.items()}
