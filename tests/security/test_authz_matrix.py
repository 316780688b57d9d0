"""The authorisation matrix: every object-scoped route (pages and API, every method) called by
anonymous, client A and B, practitioner A and B and the admin, against objects owned by others.

Only the roles a row allows may succeed; every other call is refused (401, 403, a 404 that hides the
object, or for pages the sign-in page), its refusal logged as `access.denied` with the request's id,
and not one row of the database changed by it. The rows' owners are called too, on their own objects,
so each refusal is known to come from whose object it is and not from a request that was wrong anyway.

The table is checked against `app.url_map`: a new route with a path parameter, or under /account,
/admin, /api/v1/me or /api/v1/admin, fails the suite until it has a row here.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.credentials.roster_kit import multipart as roster_upload
from tests.factories import PASSWORD, PNG, submission, totp_code
from tests.security.authz_kit import (
    ADMIN,
    CLIENTS,
    EVERYONE,
    NOBODY,
    PRACTITIONERS,
    REVIEW_BODY,
    ROLES,
    SIGNED_IN,
    TALLY,
    WRONG_CHANNEL,
    body_of,
    build,
    changes,
    denial_problems,
    perform,
    restore,
    setup_logging,
    snapshot,
    target_side,
)

SCOPED_PREFIXES = ("/account", "/admin", "/api/v1/me", "/api/v1/admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by the framework from GET, never by a view


@dataclass(frozen=True)
class Row:
    allow: frozenset  # roles that may, against the other side's objects (or their own account)
    params: tuple = ()  # (path parameter, key of the target side's objects, or a literal value)
    body: Callable | None = None  # (world, role) -> test-client keyword arguments
    owner: str | None = None  # "practitioner" | "client": whose object it is; their own call must succeed
    public: str = ""  # why anyone at all may call it
    # Why everyone, owner and admin included, gets the same `absent_status`: nothing is withheld from
    # anyone in particular, so it is not a refusal of access (and need not be logged as one).
    absent: str = ""
    absent_status: int = 404


# -- request bodies: always valid, so a refusal can only come from who is asking ------------------------


def as_json(data: dict) -> Callable:
    return lambda w, role: {"json": data}


def as_form(data: dict) -> Callable:
    return lambda w, role: {"data": data}


def with_evidence(**fields) -> Callable:
    def make(w, role):
        data = {**fields, "evidence": (io.BytesIO(PNG), "licence.png")}
        return {"data": data, "content_type": "multipart/form-data"}

    return make


def roster(w, role):
    return roster_upload("number,name,status,expires_on\nCMT-2100,Practitioner B,active,2030-06-01\n")


def second_factor(w, role):
    code = totp_code(w.user(role)) if role == "admin" else "123456"
    return {"data": {"totp": code}}


def reauthentication(w, role):
    return {"data": {"password": PASSWORD, **second_factor(w, role)["data"]}}


NEW_CREDENTIAL = submission(number="CMT-9001")
PLACE = {"lat": 30.2672, "lon": -97.7431, "city": "Austin"}
PAGE_PLACE = {"lat": "30.2672", "lon": "-97.7431", "city": "Austin", "country": "US"}
REVIEW = {"rating": 5, "body": REVIEW_BODY}
FLAG = {"reason": "This reads like an advert."}
ANSWER = {"body": "Thank you for coming to see me."}
HIDE = {"action": "hide", "reason": "It names another client."}
REJECT = {"action": "reject", "reason": "The scan is unreadable."}
NEW_PASSWORD = {"current_password": PASSWORD, "new_password": "an entirely new passphrase"}

CREDENTIAL = (("credential_id", "pending"),)
REJECTED = (("credential_id", "rejected"),)
FIRST_FILE = (("credential_id", "pending"), ("version", 1))
LOCATION = (("location_id", "location"),)
REVIEW_ID = (("review_id", "review"),)
PRACTITIONER = (("practitioner_id", "practitioner"),)
ISSUER = (("slug", "camtc"),)
PUBLIC_PROFILE = "a practitioner's public profile and reviews are the directory's purpose"

TABLE: dict[tuple[str, str], Row | tuple[Row, ...]] = {
    # -- the API: your own account and practice --
    ("GET", "/api/v1/me"): Row(SIGNED_IN),
    ("GET", "/api/v1/me/profile"): Row(PRACTITIONERS),
    ("PUT", "/api/v1/me/profile"): Row(PRACTITIONERS, body=as_json({"display_name": "Renamed"})),
    ("POST", "/api/v1/me/profile/confirm-accepting"): Row(PRACTITIONERS),
    ("GET", "/api/v1/me/locations"): Row(PRACTITIONERS),
    ("POST", "/api/v1/me/locations"): Row(PRACTITIONERS, body=as_json(PLACE)),
    ("DELETE", "/api/v1/me/locations/<id:location_id>"): Row(NOBODY, LOCATION, owner="practitioner"),
    ("GET", "/api/v1/me/credentials"): Row(PRACTITIONERS),
    ("POST", "/api/v1/me/credentials"): Row(PRACTITIONERS, body=with_evidence(**NEW_CREDENTIAL)),
    ("POST", "/api/v1/me/credentials/<id:credential_id>/evidence"): Row(
        NOBODY, REJECTED, with_evidence(), owner="practitioner"
    ),
    ("GET", "/api/v1/me/credentials/<id:credential_id>/evidence/file"): Row(
        NOBODY, CREDENTIAL, owner="practitioner"
    ),
    ("POST", "/api/v1/me/review-invites"): Row(
        PRACTITIONERS, body=as_json({"email": "a.client@example.org"})
    ),
    ("GET", "/api/v1/me/legal-name"): Row(PRACTITIONERS),
    ("PUT", "/api/v1/me/legal-name"): Row(PRACTITIONERS, body=as_json({"legal_name": "Pat Renamed Doe"})),
    # -- the API: reviews --
    ("GET", "/api/v1/practitioners/<id:practitioner_id>"): Row(EVERYONE, PRACTITIONER, public=PUBLIC_PROFILE),
    ("GET", "/api/v1/practitioners/<id:practitioner_id>/reviews"): Row(
        EVERYONE, PRACTITIONER, public=PUBLIC_PROFILE
    ),
    ("POST", "/api/v1/practitioners/<id:practitioner_id>/reviews"): Row(
        CLIENTS, PRACTITIONER, as_json(REVIEW)
    ),
    ("PUT", "/api/v1/reviews/<id:review_id>"): Row(
        NOBODY, REVIEW_ID, as_json({"rating": 1, "body": REVIEW_BODY}), owner="client"
    ),
    ("POST", "/api/v1/reviews/<id:review_id>/flags"): Row(SIGNED_IN, REVIEW_ID, as_json(FLAG)),
    ("POST", "/api/v1/reviews/<id:review_id>/response"): Row(
        NOBODY, REVIEW_ID, as_json(ANSWER), owner="practitioner"
    ),
    ("GET", "/api/v1/credentials/<id:credential_id>/attestation"): (
        Row(
            EVERYONE,
            (("credential_id", "verified"),),
            public="a verified credential's signed record is public",
        ),
        Row(NOBODY, CREDENTIAL, absent="an unverified credential has no signed record, for anyone"),
    ),
    ("GET", "/api/v1/attestations/<string(length=22):jti>"): Row(
        NOBODY,
        (("jti", "AAAAAAAAAAAAAAAAAAAAAA"),),
        absent="a record's status is public by its jti; one never issued is refused alike",
    ),
    # -- the API: administration --
    ("GET", "/api/v1/admin/audit"): Row(ADMIN),
    ("GET", "/api/v1/admin/credentials"): Row(ADMIN),
    ("GET", "/api/v1/admin/rechecks"): Row(ADMIN),
    ("GET", "/api/v1/admin/credentials/<id:credential_id>"): Row(ADMIN, CREDENTIAL),
    ("GET", "/api/v1/admin/credentials/<id:credential_id>/evidence"): Row(ADMIN, CREDENTIAL),
    ("POST", "/api/v1/admin/credentials/<id:credential_id>/decision"): Row(
        ADMIN, CREDENTIAL, as_json(REJECT)
    ),
    ("POST", "/api/v1/admin/issuers/<slug>/roster"): Row(ADMIN, ISSUER, roster),
    ("POST", "/api/v1/admin/reviews/<id:review_id>/moderation"): Row(ADMIN, REVIEW_ID, as_json(HIDE)),
    # -- pages: your own account and practice --
    ("GET", "/account"): Row(SIGNED_IN),
    ("POST", "/account"): Row(SIGNED_IN, body=as_form({"display_name": "Renamed"})),
    ("GET", "/account/security"): Row(SIGNED_IN),
    ("POST", "/account/password"): Row(SIGNED_IN, body=as_form(NEW_PASSWORD)),
    ("POST", "/account/sign-out-everywhere"): Row(SIGNED_IN),
    ("GET", "/account/two-factor"): Row(ADMIN),
    ("POST", "/account/two-factor"): Row(ADMIN, body=second_factor),
    ("GET", "/account/confirm"): Row(ADMIN),
    ("POST", "/account/confirm"): Row(ADMIN, body=reauthentication),
    ("GET", "/account/recovery-codes"): Row(ADMIN),
    ("POST", "/account/recovery-codes"): Row(ADMIN),
    ("POST", "/account/confirm-email"): Row(SIGNED_IN),
    ("POST", "/account/confirm-accepting"): Row(PRACTITIONERS),
    ("POST", "/account/locations"): Row(PRACTITIONERS, body=as_form(PAGE_PLACE)),
    ("POST", "/account/locations/<id:location_id>/delete"): Row(NOBODY, LOCATION, owner="practitioner"),
    ("GET", "/account/credentials"): Row(PRACTITIONERS),
    ("POST", "/account/legal-name"): Row(PRACTITIONERS, body=as_form({"legal_name": "Pat Renamed Doe"})),
    ("POST", "/account/credentials"): Row(PRACTITIONERS, body=with_evidence(**NEW_CREDENTIAL)),
    ("POST", "/account/credentials/<id:credential_id>/resubmit"): Row(
        NOBODY, REJECTED, with_evidence(), owner="practitioner"
    ),
    ("GET", "/account/credentials/<id:credential_id>/evidence/<id:version>"): Row(
        NOBODY, FIRST_FILE, owner="practitioner"
    ),
    ("GET", "/account/reviews"): Row(PRACTITIONERS),
    ("POST", "/account/reviews/invites"): Row(PRACTITIONERS, body=as_form({"email": "a.client@example.org"})),
    ("POST", "/account/reviews/<id:review_id>/response"): Row(
        NOBODY, REVIEW_ID, as_form(ANSWER), owner="practitioner"
    ),
    # -- pages: public profiles and what a signed-in visitor does there --
    ("GET", "/practitioners/<id:practitioner_id>"): Row(EVERYONE, PRACTITIONER, public=PUBLIC_PROFILE),
    ("POST", "/practitioners/<id:practitioner_id>/reviews"): Row(
        CLIENTS, PRACTITIONER, as_form({"rating": "5", "body": REVIEW_BODY})
    ),
    ("POST", "/reviews/<id:review_id>/flags"): Row(SIGNED_IN, REVIEW_ID, as_form(FLAG)),
    ("GET", "/confirm-email/<token>"): Row(
        NOBODY,
        (("token", "not-a-real-token"),),
        absent="the mailed link works for whoever holds a live token; a made-up one is refused alike",
        absent_status=422,
    ),
    ("GET", "/password-reset/<token>"): Row(
        NOBODY,
        (("token", "not-a-real-token"),),
        absent="the mailed link works for whoever holds a live token; a made-up one is refused alike",
        absent_status=422,
    ),
    ("GET", "/static/<path:filename>"): Row(
        EVERYONE, (("filename", "favicon.svg"),), public="the site's own assets"
    ),
    # -- pages: administration --
    ("GET", "/admin"): Row(ADMIN),
    ("GET", "/admin/audit"): Row(ADMIN),
    ("GET", "/admin/credentials"): Row(ADMIN),
    ("GET", "/admin/rechecks"): Row(ADMIN),
    ("GET", "/admin/credentials/<id:credential_id>"): Row(ADMIN, CREDENTIAL),
    ("POST", "/admin/credentials/<id:credential_id>/decision"): Row(ADMIN, CREDENTIAL, as_form(REJECT)),
    ("GET", "/admin/credentials/<id:credential_id>/evidence/<id:version>"): Row(ADMIN, FIRST_FILE),
    ("GET", "/admin/credentials/<id:credential_id>/evidence/<id:version>/preview"): Row(ADMIN, FIRST_FILE),
    ("GET", "/admin/rosters"): Row(ADMIN),
    ("GET", "/admin/issuers/<slug>/roster"): Row(ADMIN, ISSUER),
    ("POST", "/admin/issuers/<slug>/roster"): Row(ADMIN, ISSUER, roster),
    ("GET", "/admin/reviews"): Row(ADMIN),
    ("POST", "/admin/reviews/<id:review_id>/moderation"): Row(ADMIN, REVIEW_ID, as_form(HIDE)),
}


def rows():
    for (method, rule), entry in TABLE.items():
        for row in entry if isinstance(entry, tuple) else (entry,):
            yield method, rule, row


def fill(rule: str, row: Row, w, side: str) -> str:
    values = dict(row.params)

    def value(match) -> str:
        key = values[match.group(1)]
        return str(w.ids[side].get(key, key) if isinstance(key, str) else key)

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule)


def in_scope(rule) -> bool:
    return bool(rule.arguments) or any(
        rule.rule == p or rule.rule.startswith(p + "/") for p in SCOPED_PREFIXES
    )


# -- the table itself ---------------------------------------------------------------------------------


def test_the_table_names_every_scoped_route_and_method(app):
    routes = {
        (method, rule.rule): rule
        for rule in app.url_map.iter_rules()
        for method in rule.methods - IGNORED_METHODS
    }
    missing = sorted(key for key, rule in routes.items() if in_scope(rule) and key not in TABLE)
    stale = sorted(key for key in TABLE if key not in routes)
    assert not missing, f"routes with no row in the authorisation matrix: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"
    for method, rule, row in rows():
        assert set(dict(row.params)) == set(routes[method, rule].arguments), (method, rule)
        assert row.allow <= EVERYONE, (method, rule)
        # A row nobody may use proves nothing unless its owner can: the refusals could be a broken request.
        assert row.owner or row.absent or row.allow, (method, rule)
        assert (row.allow == EVERYONE) == bool(row.public), (method, rule)


# -- the matrix ---------------------------------------------------------------------------------------


@pytest.fixture
def world(app, factory, caplog):
    setup_logging(caplog)
    return build(app, factory)


def judge(w, caplog, role: str, method: str, rule: str, row: Row, side: str, may: bool) -> tuple[str, list]:
    """Make one call; returns its outcome and any problem with it."""
    path = fill(rule, row, w, side)
    kwargs = body_of(row.body, w, role)  # before the snapshot: making a body may touch the database
    browser = w.browsers.get("admin" if role == WRONG_CHANNEL else role)
    cookie = browser.get_cookie("session") if browser is not None else None
    before = None if may else snapshot()
    call = perform(w, caplog, role, method, path, kwargs)
    if may:
        restore(w)
        if cookie is not None:
            browser.set_cookie("session", cookie.value)
        return "allowed", [] if call.succeeded else [f"{call}: allowed, but it did not succeed"]
    if call.succeeded:
        return "UNAUTHORISED SUCCESS", [f"{call}: UNAUTHORISED SUCCESS"]
    if row.absent:
        outcome = "absent"
        problems = [] if call.status == row.absent_status else [f"{call}: not {row.absent_status} as for all"]
    else:
        outcome = "denied"
        problems = [] if call.refused else [f"{call}: neither allowed nor refused"]
        anonymous = role in ("anonymous", WRONG_CHANNEL)
        if anonymous and (call.status != 401 if path.startswith("/api/") else not call.to_sign_in):
            problems.append(f"{call}: an unknown caller is sent to sign in (401 on the API)")
        problems += denial_problems(w, call)
    diff = changes(before, snapshot())
    if diff:
        problems.append(f"{call}: a refused request changed the database: {diff}")
        restore(w)  # so that one failure does not spill into the cells after it
    return outcome, problems


@pytest.mark.parametrize("role", ROLES + (WRONG_CHANNEL,))
def test_nobody_gets_what_is_not_theirs(world, caplog, role):
    problems, outcomes = [], []
    for method, rule, row in rows():
        may = ("anonymous" if role == WRONG_CHANNEL else role) in row.allow
        outcome, found = judge(world, caplog, role, method, rule, row, target_side(role), may)
        outcomes.append(outcome)
        problems += found
    for outcome in outcomes:
        TALLY.counts[("channel" if role == WRONG_CHANNEL else "matrix", outcome)] += 1
    TALLY.roles_done.add(role)
    assert not problems, "\n".join(problems)


def test_owners_may_what_others_may_not(world, caplog):
    """Each row nobody else may use, called by the owner on their own object (side a), succeeds."""
    problems = []
    for method, rule, row in rows():
        if row.owner:
            role = f"{row.owner}_a"
            outcome, found = judge(world, caplog, role, method, rule, row, "a", may=True)
            TALLY.counts[("owner", outcome)] += 1
            problems += found
    TALLY.roles_done.add("owner")
    assert not problems, "\n".join(problems)


# Being close to an object is not owning it: the practitioner a review is about did not write it, its
# author does not answer for the practice. Each is refused on side a's own review.
CLOSE_BUT_NOT_OWNER = (
    ("practitioner_a", "PUT", "/api/v1/reviews/<id:review_id>"),
    ("client_a", "POST", "/api/v1/reviews/<id:review_id>/response"),
    ("client_a", "POST", "/account/reviews/<id:review_id>/response"),
)


def test_closeness_is_not_ownership(world, caplog):
    problems = []
    for role, method, rule in CLOSE_BUT_NOT_OWNER:
        outcome, found = judge(world, caplog, role, method, rule, TABLE[method, rule], "a", may=False)
        TALLY.counts[("close", outcome)] += 1
        problems += found
    TALLY.roles_done.add("close")
    assert not problems, "\n".join(problems)


def test_the_figure(capsys):
    """Printed for the record (pytest -s shows it); only meaningful after the whole matrix ran."""
    if TALLY.roles_done != set(ROLES) | {WRONG_CHANNEL, "owner", "close"}:
        pytest.skip("the figure needs every role's test of this module in the same run")
    c = TALLY.counts
    routes = len(TABLE)
    cells = sum(n for (kind, _), n in c.items() if kind == "matrix")
    unauthorised = sum(n for (_, outcome), n in c.items() if outcome == "UNAUTHORISED SUCCESS")
    figure = (
        f"authorisation matrix: {routes} routes x methods, {len(list(rows()))} rows x {len(ROLES)} roles = "
        f"{cells} cells: {c['matrix', 'denied']} denied (each logged, nothing changed), "
        f"{c['matrix', 'allowed']} allowed, {c['matrix', 'absent']} absent for everyone; "
        f"{c['owner', 'allowed']} owner controls allowed; {c['close', 'denied']} near-owner calls denied; "
        f"{c['channel', 'denied']} wrong-channel calls denied; "
        f"{unauthorised} unauthorised successes"
    )
    with capsys.disabled():
        print("\n" + figure)
    assert unauthorised == 0
