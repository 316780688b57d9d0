"""The write load of the crash bench: people made once, then client threads writing through the API.

Each thread owns its keys (its practitioners' profiles and places, its clients' reviews; the admin's
decisions), so the order of its writes to a key is the order they happened. Every attempt goes into
the ledger with what it wrote and whether the server acknowledged it (a 2xx answer). A write without
an answer (the server died under it) may or may not have committed; the checks accept either, but a
write that was acknowledged must be in the database.
"""

import hashlib
import random
import threading
import time
from dataclasses import dataclass, field

import pyotp

from bench.faults.crashkit import call, multipart

PASSWORD = "crash bench password"  # noqa: S105 - the bench's throwaway accounts
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"
PDF_HEAD, PDF_TAIL = b"%PDF-1.4\n", b"\n%%EOF\n"
WORDS = ("knots", "posture", "calm", "steady", "relief", "tension", "stretch", "gentle", "firm", "recovery")
CITIES = (
    (30.2672, -97.7431, "Austin", "TX"),
    (47.6062, -122.3321, "Seattle", "WA"),
    (41.8781, -87.6298, "Chicago", "IL"),
)


@dataclass
class Person:
    email: str
    user_id: int
    practitioner_id: int | None = None
    token: str = ""
    totp_secret: str | None = None
    last_step: int | None = None
    token_at: float = 0.0


@dataclass
class Ledger:
    """Every write attempted: {"kind", "key", "value", "acked", "status"} in the order each thread made them."""

    writes: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # 5xx answers: always a bug
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, key, value, status: int | None) -> None:
        acked = status is not None and 200 <= status < 300
        with self.lock:
            self.writes.append(
                {
                    "kind": kind,
                    "key": key,
                    "value": value,
                    "acked": acked,
                    "status": status,
                    "at": time.time(),
                }
            )
            if status is not None and status >= 500:
                self.errors.append({"kind": kind, "key": key, "status": status})

    def acknowledged(self) -> int:
        return sum(1 for w in self.writes if w["acked"])


def seed(app, practitioners: int, clients: int) -> dict:
    """People, through the services (inside `app`'s context); the admin with an authenticator set up."""
    from directory.accounts.models import User
    from directory.extensions import db
    from directory.practitioners import service as profiles
    from directory.practitioners.schemas import LocationInSchema, ProfileInSchema
    from tests.factories import make_admin, registered

    made = {"practitioners": [], "clients": [], "admin": None}
    for i in range(practitioners):
        user = registered(f"crash-p{i}@example.org", PASSWORD, "practitioner")
        lat, lon, city, region = CITIES[i % len(CITIES)]
        profile = profiles.save_profile(
            user, ProfileInSchema().load({"display_name": f"Crash P{i}", "approach": "seeded start"})
        )
        profiles.add_location(
            user, LocationInSchema().load({"lat": lat, "lon": lon, "city": city, "region": region})
        )
        made["practitioners"].append(Person(user.email, user.id, profile.id))
    for i in range(clients):
        user = registered(f"crash-c{i}@example.org", PASSWORD, "client")
        made["clients"].append(Person(user.email, user.id))
    admin = make_admin("crash-admin@example.org", PASSWORD)
    # Enrolment used this 30-second step's code; forget it, as the test kit does, so that the first
    # token can be asked for now rather than in up to 30 s. Later tokens wait for a new step.
    admin = db.session.get(User, admin.id)
    admin.totp_last_step = None
    db.session.commit()
    made["admin"] = Person(admin.email, admin.id, totp_secret=admin.totp_secret)
    return made


def sign_in(port: int, person: Person) -> None:
    body = {"email": person.email, "password": PASSWORD}
    if person.totp_secret:
        totp = pyotp.TOTP(person.totp_secret)
        step = totp.timecode(time.time())
        if person.last_step is not None and step <= person.last_step:
            time.sleep(30 - time.time() % 30 + 0.5)  # each code works once: wait for the next one
            step = totp.timecode(time.time())
        body["totp"] = totp.at(time.time())
        person.last_step = step
    status, answer = call(port, "POST", "/api/v1/auth/tokens", body)
    if status != 201:
        raise RuntimeError(f"no token for {person.email}: {status} {answer}")
    person.token, person.token_at = answer["token"], time.monotonic()


def _auth(person: Person) -> dict:
    return {"Authorization": f"Bearer {person.token}"}


def _id(answer) -> int:
    return answer["id"]


def evidence_file(rng: random.Random) -> tuple[str, bytes, str]:
    """A PNG or a PDF by content, 1-64 kB of random bytes: a kill can land mid-write."""
    body = rng.randbytes(rng.randint(1024, 64 * 1024))
    if rng.random() < 0.5:
        return "licence.png", PNG + body, "image/png"
    return "licence.pdf", PDF_HEAD + body + PDF_TAIL, "application/pdf"


class Load:
    """Writer threads over the people made by seed(); start() and pause() between kills."""

    def __init__(self, port: int, people: dict, ledger: Ledger, seed_value: int, writers: int = 2):
        self.port, self.people, self.ledger = port, people, ledger
        self.rng = random.Random(seed_value)
        self.running = threading.Event()
        self.quit = threading.Event()
        self.threads: list[threading.Thread] = []
        self.idle = []  # one Event per thread: set while it waits between rounds
        self.counter = 0
        self.refused = 0  # requests no worker accepted (the server was down): never recorded as writes
        self.places: dict[int, list[tuple[int, str]]] = {
            p.practitioner_id: [] for p in people["practitioners"]
        }
        self.reviews: dict[tuple[int, int], int] = {}  # (client, practitioner) → review id
        owned = people["practitioners"]
        plans = [(self._practitioner_op, owned[i::writers]) for i in range(writers)]
        plans += [(self._client_op, people["clients"]), (self._admin_op, [people["admin"]])]
        for number, (operation, persons) in enumerate(plans):
            idle = threading.Event()
            rng = random.Random(seed_value * 100 + number)
            thread = threading.Thread(target=self._run, args=(operation, persons, rng, idle), daemon=True)
            self.idle.append(idle)
            self.threads.append(thread)
            thread.start()

    def start(self) -> None:
        self.running.set()

    def pause(self) -> None:
        """Stop writing: returns once every thread has finished its request in flight."""
        self.running.clear()
        for idle in self.idle:
            idle.wait()

    def close(self) -> None:
        self.quit.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self, operation, persons, rng: random.Random, idle: threading.Event) -> None:
        while not self.quit.is_set():
            if not self.running.is_set():
                idle.set()
                self.running.wait()
                continue
            idle.clear()
            if not self.running.is_set():
                continue
            try:
                operation(rng.choice(persons), rng)
            except ConnectionRefusedError:
                self.refused += 1
                time.sleep(0.05)  # the server is restarting
            except OSError:
                time.sleep(0.05)  # cut off mid-request: recorded as unacknowledged
            except Exception as exc:  # noqa: BLE001 - a broken answer: kept, and the load goes on
                self.ledger.errors.append({"kind": "client", "key": None, "status": repr(exc)[:200]})
                time.sleep(0.05)

    def _unique(self) -> int:
        with self.ledger.lock:
            self.counter += 1
            return self.counter

    def _send(self, kind: str, key, value, method: str, path: str, person: Person, key_from=None, **kwargs):
        """Make one write and record it; `key_from(answer)` names what a 2xx answer created."""
        headers = _auth(person) | kwargs.pop("headers", {})
        try:
            status, answer = call(self.port, method, path, headers=headers, **kwargs)
        except ConnectionRefusedError:
            raise  # no worker took it: not a write at all
        except OSError:
            self.ledger.add(kind, key, value, None)
            raise
        if key_from is not None and 200 <= status < 300:
            key = key_from(answer)
        self.ledger.add(kind, key, value, status)
        return status, answer

    # -- the operations ------------------------------------------------------------------------
    def _practitioner_op(self, person: Person, rng: random.Random) -> None:
        pid = person.practitioner_id
        roll = rng.random()
        if roll < 0.4:
            approach = f"crashword{self._unique()}x {rng.choice(WORDS)} work"
            body = {"display_name": f"Crash {pid}", "approach": approach, "accepting_clients": True}
            self._send("profile", pid, approach, "PUT", "/api/v1/me/profile", person, body=body)
        elif roll < 0.55:
            lat, lon, city, region = rng.choice(CITIES)
            label = f"place{self._unique()}"
            body = {"label": label, "lat": lat + rng.uniform(-0.2, 0.2), "lon": lon + rng.uniform(-0.2, 0.2)}
            body |= {"city": city, "region": region}
            status, answer = self._send(
                "place", None, label, "POST", "/api/v1/me/locations", person, key_from=_id, body=body
            )
            if status == 201:
                self.places[pid].append((answer["id"], label))
        elif roll < 0.65 and self.places[pid]:
            place, label = self.places[pid].pop(rng.randrange(len(self.places[pid])))
            self._send("place-delete", place, label, "DELETE", f"/api/v1/me/locations/{place}", person)
        elif roll < 0.9:
            filename, data, kind = evidence_file(rng)
            number = f"CMT-{100000 + self._unique()}"
            fields = {"issuer": "camtc", "kind": "license", "title": "Massage Therapist", "number": number}
            fields |= {"issued_on": "2018-01-01", "expires_on": "2035-01-01"}
            body, content_type = multipart(fields, {"evidence": (filename, data, kind)})
            digest = hashlib.sha256(data).hexdigest()
            self._send(
                "credential", number, {"pid": pid, "sha256": digest}, "POST", "/api/v1/me/credentials", person,
                body=body, headers={"Content-Type": content_type},
            )  # fmt: skip
        else:
            status, mine = call(self.port, "GET", "/api/v1/me/credentials", headers=_auth(person))
            rejected = [c["id"] for c in mine or [] if c["status"] == "rejected"] if status == 200 else []
            if rejected:
                cid = rng.choice(rejected)
                filename, data, kind = evidence_file(rng)
                body, content_type = multipart({}, {"evidence": (filename, data, kind)})
                digest = hashlib.sha256(data).hexdigest()
                self._send(
                    "evidence", cid, digest, "POST", f"/api/v1/me/credentials/{cid}/evidence", person,
                    body=body, headers={"Content-Type": content_type},
                )  # fmt: skip

    def _client_op(self, person: Person, rng: random.Random) -> None:
        target = rng.choice(self.people["practitioners"]).practitioner_id
        text = f"Review text {self._unique()}: {rng.choice(WORDS)} and {rng.choice(WORDS)} hands."
        review = self.reviews.get((person.user_id, target))
        if review is None:
            body = {"rating": rng.randint(1, 5), "body": text}
            path = f"/api/v1/practitioners/{target}/reviews"
            status, answer = self._send("review", None, text, "POST", path, person, key_from=_id, body=body)
            if status == 201:
                self.reviews[(person.user_id, target)] = answer["id"]
            elif status == 409:  # an earlier attempt got no answer but was written: leave that one be
                self.reviews[(person.user_id, target)] = -1
            return
        if review > 0:
            body = {"rating": rng.randint(1, 5), "body": text}
            self._send("review", review, text, "PUT", f"/api/v1/reviews/{review}", person, body=body)

    def _admin_op(self, admin: Person, rng: random.Random) -> None:
        if time.monotonic() - admin.token_at > 600:  # verify and revoke need a sign-in younger than 15 min
            sign_in(self.port, admin)
        wanted = "pending" if rng.random() < 0.8 else "verified"
        status, queue = call(
            self.port, "GET", f"/api/v1/admin/credentials?status={wanted}", headers=_auth(admin)
        )
        if status != 200 or not queue:
            time.sleep(0.05)
            return
        cid = rng.choice(queue[:20])["id"]
        action = "revoke" if wanted == "verified" else rng.choice(("verify", "reject"))
        target = {"verify": "verified", "reject": "rejected", "revoke": "revoked"}[action]
        body = {"action": action, "reason": "" if action == "verify" else "crash bench decision"}
        self._send(
            "decision", cid, target, "POST", f"/api/v1/admin/credentials/{cid}/decision", admin, body=body
        )
