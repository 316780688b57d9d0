"""The authorisation matrix's world and machinery: six people on two sides, every call made as one of
them against the other side's objects, each answer judged, each denial matched to its log record,
and every refused request proved to have changed nothing.

Side "a" and side "b" each hold a client, a practitioner (profile, a place, a pending, a verified and a
rejected credential with evidence) and a review the client wrote of that practitioner. Whoever acts
from one side aims at the other side's objects; anonymous callers aim at side a, the admin at side b.
"""

import io
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from directory.accounts.models import User
from directory.credentials import decisions
from directory.credentials import service as credentials
from directory.credentials.schemas import CredentialInSchema
from directory.extensions import db
from directory.reviews import service as reviews
from directory.reviews.schemas import ReviewInSchema
from tests.factories import PNG, signed_in, submission

ROLES = ("anonymous", "client_a", "client_b", "practitioner_a", "practitioner_b", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
CLIENTS = frozenset({"client_a", "client_b"})
PRACTITIONERS = frozenset({"practitioner_a", "practitioner_b"})
ADMIN = frozenset({"admin"})
EVERYONE = frozenset(ROLES)
NOBODY = frozenset()
# The admin's password and authenticator presented on the other channel (a bearer token to a page, the
# session cookie to the API) must count for nothing: the API ignores cookies, so CSRF cannot reach it.
WRONG_CHANNEL = "admin_on_the_other_channel"
TARGET_SIDE = {"anonymous": "a", "admin": "b", WRONG_CHANNEL: "b"}
# The idle clock of a token or session moves on any request, refused or not; nothing is decided by it.
VOLATILE = {"last_seen_at"}
REVIEW_BODY = "Careful, unhurried work; my shoulder moves freely again after years."


def target_side(role: str) -> str:
    """The side whose objects `role` aims at: never its own."""
    if role in TARGET_SIDE:
        return TARGET_SIDE[role]
    return "b" if role.endswith("_a") else "a"


def upload(name: str = "licence.png") -> FileStorage:
    return FileStorage(io.BytesIO(PNG), filename=name, content_type="image/png")


@dataclass
class World:
    app: object
    users: dict = field(default_factory=dict)  # role -> User (as built; use user() once requests ran)
    ids: dict = field(default_factory=dict)  # side -> {object key -> id}
    headers: dict = field(default_factory=dict)  # role -> request headers for the API
    browsers: dict = field(default_factory=dict)  # role -> a signed-in test client for the pages
    baseline: dict | None = None  # the database right after building, to go back to after a write

    user_ids: dict = field(default_factory=dict)  # role -> id, kept: the objects above go stale

    def user_id(self, role: str) -> int | None:
        return self.user_ids.get(role)

    def user(self, role: str) -> User:
        return db.session.get(User, self.user_ids[role])


def build(app, factory) -> World:
    """Everything through the services and the sign-in pages, as the app itself would make it."""
    w = World(app)
    admin = w.users["admin"] = factory.user("admin")
    for side in "ab":
        client = w.users[f"client_{side}"] = factory.user("client")
        p = factory.practitioner(display_name=f"Practitioner {side.upper()}", approach="Deep tissue.")
        w.users[f"practitioner_{side}"] = p.user
        ids = w.ids[side] = {"practitioner": p.id, "location": factory.location(p).id}
        for n, state in enumerate(("pending", "verified", "rejected")):
            data = CredentialInSchema().load(submission(number=f"CMT-{2000 + 100 * (side == 'b') + n}"))
            ids[state] = credentials.submit(p.user, data, upload()).id
        decisions.decide(admin, ids["verified"], {"action": "verify"})
        decisions.decide(admin, ids["rejected"], {"action": "reject", "reason": "The scan is unreadable."})
        review = ReviewInSchema().load({"rating": 4, "body": REVIEW_BODY})
        ids["review"] = reviews.write(client, p.id, review).id
    w.user_ids = {role: user.id for role, user in w.users.items()}
    for role in SIGNED_IN:
        w.headers[role] = factory.headers(w.users[role])
        w.browsers[role] = signed_in(app, w.users[role])
    w.headers["anonymous"] = {}
    w.baseline = rows_of_every_table()
    return w


def snapshot() -> dict:
    """Every row of every table, comparable: a refused request must leave it exactly as it was."""
    db.session.remove()
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in VOLATILE]
            result = conn.execute(sa.select(*columns))
            rows[table.name] = sorted((tuple(r) for r in result), key=repr)
    return rows


def changes(before: dict, after: dict) -> dict:
    return {
        name: {
            "gone": sorted(set(rows) - set(after[name]), key=repr)[:3],
            "new": sorted(set(after[name]) - set(rows), key=repr)[:3],
        }
        for name, rows in before.items()
        if rows != after[name]
    }


def rows_of_every_table() -> dict:
    with db.engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in db.metadata.sorted_tables
        }


def restore(w: World) -> None:
    """Back to the world as built, after a write that was allowed to happen. The models' own metadata,
    not a reflection of the database each time: tests/dbreset.py's restore would cost 0.2 s a call."""
    db.session.remove()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if w.baseline[table.name]:
                conn.execute(table.insert(), w.baseline[table.name])


# -- one call and its verdict ----------------------------------------------------------------------------


@dataclass
class Call:
    """One cell: who, which route, what happened, and what the log said about it."""

    role: str
    method: str
    path: str
    status: int = 0
    location: str = ""
    denials: list = field(default_factory=list)  # access.denied records of this request
    request_id: str | None = None

    @property
    def to_sign_in(self) -> bool:
        return 300 <= self.status < 400 and urlsplit(self.location).path == "/login"

    @property
    def refused(self) -> bool:
        return self.status in (401, 403, 404) or self.to_sign_in

    @property
    def succeeded(self) -> bool:
        return self.status < 400 and not self.denials

    def __str__(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        return f"{self.role:>26} {self.method:6} {self.path}: {self.status}{where}"


def perform(w: World, caplog, role: str, method: str, path: str, kwargs: dict) -> Call:
    """Make the request the way that role would: bearer token for /api, its browser for pages."""
    api = path.startswith("/api/")
    if role == WRONG_CHANNEL:
        # Swapped on purpose: the admin's session cookie goes to the API, its bearer token to the pages.
        client, headers = (w.browsers["admin"], {}) if api else (w.app.test_client(), w.headers["admin"])
    elif api or role == "anonymous":
        client, headers = w.app.test_client(), w.headers[role]
    else:
        client, headers = w.browsers[role], {}
    caplog.clear()
    response = client.open(path, method=method, headers=headers, **kwargs)
    response.close()
    records = [r for r in caplog.records if r.name == "directory.security"]
    return Call(
        role,
        method,
        path,
        response.status_code,
        response.headers.get("Location", ""),
        [r for r in records if getattr(r, "event", None) == "access.denied"],
        response.headers.get("X-Request-ID"),
    )


def denial_problems(w: World, call: Call) -> list[str]:
    """A refusal is logged exactly once, with its status (401 for a sign-in redirect), this request's id, and
    (when someone was signed in) who was refused."""
    if not call.denials:
        return [f"{call}: refused but no access.denied record"]
    problems = [] if len(call.denials) == 1 else [f"{call}: {len(call.denials)} access.denied records"]
    want = 401 if call.to_sign_in else call.status
    record = call.denials[-1]
    if getattr(record, "status", None) != want:
        problems.append(f"{call}: logged status {getattr(record, 'status', None)}, expected {want}")
    if not getattr(record, "request_id", None) or record.request_id != call.request_id:
        problems.append(f"{call}: the record's request_id does not match the response's")
    expected_user = w.user_id(call.role) if call.role in SIGNED_IN else None
    if getattr(record, "user_id", None) != expected_user:
        problems.append(f"{call}: logged user {getattr(record, 'user_id', None)}, expected {expected_user}")
    return problems


@dataclass
class Tally:
    """What the matrix measured, across its tests, for the figure printed at the end."""

    counts: Counter = field(default_factory=Counter)
    roles_done: set = field(default_factory=set)


TALLY = Tally()


def body_of(make: Callable | None, w: World, role: str) -> dict:
    return make(w, role) if make is not None else {}


def setup_logging(caplog) -> None:
    caplog.set_level(logging.INFO, logger="directory.security")
