"""Every rule in the directory reads the time through timeutil, so the tests' `clock` moves all of them.

A module that asked the system clock itself would keep its own idea of "now" while a test moved the
clock: its rule would then go untested, however the test was written. Timing a piece of work
(time.monotonic, time.perf_counter) reads no moment and is fine anywhere.
"""

import ast
from pathlib import Path

import pyotp
import pytest
from flask import Response

import directory
from directory.accounts import devices
from directory.search import index
from tests.factories import PASSWORD, authenticator_code

SOURCES = Path(directory.__file__).parent

# Calls that read the wall clock, by their last two dotted parts (`datetime.now`, `dt.datetime.now`).
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "strftime"),
}
# Libraries that read the wall clock unless they are handed a signer that reads ours.
TIMED_SERIALIZERS = {"TimedSerializer", "URLSafeTimedSerializer"}

# (file, call) that must stay, and why.
ALLOWED = {
    (
        "timeutil.py",
        "datetime.now",
    ): "the one reading of the system clock, which the `clock` fixture replaces",
    ("search/documents.py", "time.time_ns"): "names a spelling-words document uniquely; no rule reads it",
    ("search/index/building.py", "time.time_ns"): "names a new index folder uniquely; no rule reads it",
}


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, call) for each wall-clock reading in a module, `from time import time` aliases included."""
    aliases = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime"}
        for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        name = aliases.get(name, name) if "." not in name else name
        parts = tuple(name.split(".")[-2:])
        if parts in WALL_CLOCK:
            found.append((node.lineno, ".".join(parts)))
        elif parts[-1] in TIMED_SERIALIZERS and not any(k.arg == "signer" for k in node.keywords):
            found.append((node.lineno, f"{parts[-1]} without a signer"))
    return found


def test_no_module_reads_the_wall_clock_outside_timeutil():
    strays, used = [], set()
    for path in sorted(SOURCES.rglob("*.py")):
        where = path.relative_to(SOURCES).as_posix()
        for line, call in clock_reads(ast.parse(path.read_text(), filename=str(path))):
            if (where, call) in ALLOWED:
                used.add((where, call))
            else:
                strays.append(f"directory/{where}:{line} {call}")
    assert strays == [], "read the time through directory.timeutil (now_utc, today_utc) instead"
    assert used == set(ALLOWED), f"allowed but gone, drop them from the list: {set(ALLOWED) - used}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from datetime import datetime\ndatetime.now()", [(2, "datetime.now")]),
        ("import datetime as dt\ndt.datetime.now(dt.UTC)", [(2, "datetime.now")]),
        ("from datetime import date\ndate.today()", [(2, "date.today")]),
        ("import time\ntime.time()", [(2, "time.time")]),
        ("from time import time\ntime()", [(2, "time.time")]),
        ("from time import time as wall\nwall()", [(2, "time.time")]),
        ("from datetime import datetime\ndatetime.utcnow()", [(2, "datetime.utcnow")]),
        ("URLSafeTimedSerializer('k', salt='s')", [(1, "URLSafeTimedSerializer without a signer")]),
        ("URLSafeTimedSerializer('k', salt='s', signer=Ours)", []),
        ("import time\ntime.monotonic(); time.perf_counter()", []),
        ("from directory.timeutil import now_utc\nnow_utc()", []),
    ],
)
def test_the_guard_sees_each_way_of_reading_the_clock(source, expected):
    assert clock_reads(ast.parse(source)) == expected


def test_the_server_checks_authenticator_codes_by_the_moved_clock(app, client, factory, clock):
    admin = factory.user("admin")
    by_the_system = pyotp.TOTP(admin.totp_secret).now()
    clock.advance(minutes=10)  # twenty steps on: outside the one-step drift allowed

    def token_with(code: str) -> int:
        body = {"email": admin.email, "password": PASSWORD, "totp": code}
        return client.post("/api/v1/auth/tokens", json=body).status_code

    assert token_with(by_the_system) == 401
    assert token_with(authenticator_code(admin.totp_secret)) == 201


def test_a_known_device_cookie_ages_by_the_clock(app, clock):
    with app.test_request_context():
        response = Response()
        devices.remember(response, "account-key")
    cookie = response.headers["Set-Cookie"].split(";")[0]

    def nonce_after(days: int) -> str | None:
        clock.advance(days=days - clock.offset.days)
        with app.test_request_context(headers={"Cookie": cookie}):
            return devices.nonce_for("account-key")

    days = app.config["DEVICE_COOKIE_DAYS"]
    assert nonce_after(days - 1) is not None
    assert nonce_after(days + 1) is None


def test_an_outbox_gap_is_given_up_by_the_clock(clock):
    state = index.advance({"applied": 10, "gaps": {}}, [12])
    clock.advance(seconds=index.GAP_PATIENCE_SECONDS - 5)
    assert set(index.advance(state, [])["gaps"]) == {"11"}
    clock.advance(seconds=10)
    assert index.advance(state, [])["gaps"] == {}
