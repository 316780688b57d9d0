"""Mass assignment through the HTML forms. WTForms reads only the fields a form declares, so a
server-owned field added to a form post is dropped: each page's plain post, with every such field
added (`role=admin`, `status=verified`, someone else's ids …), still does only what the plain post
does. The table is checked against the app's routes, so a new form cannot be forgotten."""

import io
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from directory.credentials.models import Credential
from directory.extensions import db
from tests.factories import PASSWORD, PNG, signed_in, submission, totp_code
from tests.security.world import REVIEW_BODY, World, changes, snapshot

WHEN = "2099-01-01T00:00:00+00:00"
CHOSEN = "chosen-by-the-caller"
NEW_PASSWORD = "a brand new passphrase"


@dataclass(frozen=True)
class Page:
    who: str | None  # who is signed in (a World role), or nobody
    url: object  # callable(world) -> str
    data: object = None  # callable(world) -> the plain form's fields
    upload: str | None = None  # multipart, with a file under this name
    ok: tuple[int, ...] = (302,)
    before: object = None  # callable(world, browser): a step the form needs first (a reset link)
    done: object = None  # callable(world) -> bool: the plain post's effect happened


def _status(w, name: str) -> str:
    db.session.expire_all()
    return db.session.get(Credential, w.id(name)).status


def _submitted(number: str) -> str | None:
    return db.session.scalar(sa.select(Credential.status).where(Credential.number == number))


def _legal_name(w) -> str | None:
    db.session.expire_all()
    return w.profile().legal_name


def _reset_link(w, browser) -> None:
    assert browser.get(f"/password-reset/{w.reset_token()}").status_code == 302


PAGES = {
    "/register": Page(
        None,
        lambda w: "/register",
        lambda w: {"email": "new@example.org", "password": PASSWORD, "role": "client"},
    ),
    "/login": Page(
        None, lambda w: "/login", lambda w: {"email": w.user("practitioner").email, "password": PASSWORD}
    ),
    "/logout": Page("practitioner", lambda w: "/logout"),
    "/account/password": Page(
        "practitioner",
        lambda w: "/account/password",
        lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    ),
    "/account/sign-out-everywhere": Page("practitioner", lambda w: "/account/sign-out-everywhere"),
    "/password-reset": Page(
        None, lambda w: "/password-reset", lambda w: {"email": w.user("practitioner").email}
    ),
    "/password-reset/new": Page(
        None, lambda w: "/password-reset/new", lambda w: {"password": NEW_PASSWORD}, before=_reset_link
    ),
    # Enrolment ends on the page of recovery codes, shown once: a 200, not a redirect.
    "/account/two-factor": Page(
        "enrolling", lambda w: "/account/two-factor", lambda w: {"totp": w.enrolment_code()}, ok=(200,)
    ),
    "/account/confirm-email": Page("unconfirmed", lambda w: "/account/confirm-email"),
    "/account/recovery-codes": Page("admin", lambda w: "/account/recovery-codes", ok=(200,)),
    "/account/confirm": Page(
        "admin",
        lambda w: "/account/confirm",
        lambda w: {"password": PASSWORD, "totp": totp_code(w.user("admin"))},
    ),
    "/account": Page(
        "practitioner", lambda w: "/account", lambda w: {"display_name": "Pat Kneads", "languages": "en"}
    ),
    "/account/confirm-accepting": Page("practitioner", lambda w: "/account/confirm-accepting"),
    "/account/locations": Page(
        "practitioner",
        lambda w: "/account/locations",
        lambda w: {"lat": "30.27", "lon": "-97.74", "city": "Austin"},
    ),
    "/account/locations/<id:location_id>/delete": Page(
        "practitioner", lambda w: f"/account/locations/{w.id('location')}/delete"
    ),
    "/account/credentials": Page(
        "practitioner",
        lambda w: "/account/credentials",
        lambda w: submission(number="CMT-9009"),
        upload="evidence",
        done=lambda w: _submitted("CMT-9009") == "pending",
    ),
    "/account/legal-name": Page(
        "practitioner",
        lambda w: "/account/legal-name",
        lambda w: {"legal_name": "Pat Kneads Doe"},
        done=lambda w: _legal_name(w) == "Pat Kneads Doe",
    ),
    "/account/credentials/<id:credential_id>/resubmit": Page(
        "practitioner",
        lambda w: f"/account/credentials/{w.id('rejected')}/resubmit",
        upload="evidence",
        done=lambda w: _status(w, "rejected") == "pending",
    ),
    "/admin/credentials/<id:credential_id>/decision": Page(
        "admin",
        lambda w: f"/admin/credentials/{w.id('pending')}/decision",
        lambda w: {"action": "reject", "reason": "The number is not on the board's register."},
        done=lambda w: _status(w, "pending") == "rejected",
    ),
    "/admin/issuers/<slug>/roster": Page(
        "admin",
        lambda w: "/admin/issuers/camtc/roster",
        upload="file",
        ok=(200,),
        before=lambda w, browser: w.id("pending"),
        done=lambda w: _status(w, "pending") == "pending",  # the roster's name differs: no match
    ),
    "/practitioners/<id:practitioner_id>/reviews": Page(
        "newcomer",
        lambda w: f"/practitioners/{w.id('practitioner')}/reviews",
        lambda w: {"rating": "5", "body": REVIEW_BODY},
    ),
    "/reviews/<id:review_id>/flags": Page(
        "newcomer",
        lambda w: f"/reviews/{w.id('review')}/flags",
        lambda w: {"reason": "Reads like an advert."},
    ),
    "/account/reviews/invites": Page(
        "practitioner",
        lambda w: "/account/reviews/invites",
        lambda w: {"email": "a.client@example.org"},
        ok=(201,),
    ),
    "/account/reviews/<id:review_id>/response": Page(
        "practitioner",
        lambda w: f"/account/reviews/{w.id('review')}/response",
        lambda w: {"body": "Thank you."},
    ),
    "/admin/reviews/<id:review_id>/moderation": Page(
        "admin",
        lambda w: f"/admin/reviews/{w.id('review')}/moderation",
        lambda w: {"action": "hide", "reason": "Spam."},
    ),
}


def extras(w) -> dict:
    """Every server-owned field a form post might try, with an attacker's values."""
    theirs = w.profile("other")
    return {
        "id": str(theirs.id),
        "user_id": str(theirs.user.id),
        "author_id": str(theirs.user.id),
        "practitioner_id": str(theirs.id),
        "role": "admin",
        "is_admin": "y",
        "status": "verified",
        "method": "roster",
        "verified": "y",
        "verified_client": "y",
        "resolved": "y",
        "admin": theirs.user.email,
        "actor": theirs.user.email,
        "code": CHOSEN,
        "totp_secret": CHOSEN,
        "password_hash": CHOSEN,
        "sha256": CHOSEN,
        "stored_name": CHOSEN,
        "geocoded_from": CHOSEN,
        "verified_legal_name": CHOSEN,
        "number_key": CHOSEN,
        "display_name": CHOSEN,
        "version": "1",
        "review_count": "999",
        **{
            name: WHEN
            for name in ("created_at", "updated_at", "verified_at", "expires_at", "accepting_confirmed_at")
        },
    }


def post(page: Page, browser, url: str, fields: dict):
    if page.upload is None:
        return browser.post(url, data=fields)
    content, name = (b"number,name,status,expires_on\nCMT-1001,Somebody Else,active,\n", "roster.csv")
    if page.upload == "evidence":
        content, name = PNG, "licence.png"
    form = {**fields, page.upload: (io.BytesIO(content), name)}
    return browser.post(url, data=form, content_type="multipart/form-data")


@pytest.fixture
def world(factory, client):
    return World(factory, client)


def test_every_form_post_of_the_site_has_an_entry(app):
    posts = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith(("/api/", "/.well-known/"))
    }
    assert not posts - PAGES.keys(), f"form posts without an entry: {sorted(posts - PAGES.keys())}"
    assert not PAGES.keys() - posts, f"entries for no route: {sorted(PAGES.keys() - posts)}"


@pytest.mark.parametrize("rule", list(PAGES))
def test_server_owned_fields_in_a_form_change_nothing(app, world, rule):
    page = PAGES[rule]
    user = world.user(page.who)
    browser = signed_in(app, user) if user is not None else app.test_client()
    if page.before:
        page.before(world, browser)
    url, fields = page.url(world), page.data(world) if page.data else {}
    sent = {**extras(world), **fields}  # a field the form really has keeps its plain value
    before = snapshot()
    admins = {row["id"] for row in _rows(before, "users") if row["role"] == "admin"}
    response = post(page, browser, url, sent)
    assert response.status_code in page.ok, response.get_data(as_text=True)[:2000]
    assert page.done is None or page.done(world)
    diff = changes(before, snapshot())
    # No chosen value stored, and no time set to the year sent (a hash or signature may spell "2099").
    stored = [value for d in diff.values() for row in d["new"] for _, value in row]
    assert CHOSEN not in repr(diff), diff
    assert not any(isinstance(v, date) and v.year == 2099 for v in stored), diff
    theirs = world.profile("other")
    for table, rows in {name: [dict(r) for r in d["new"]] for name, d in diff.items()}.items():
        for row in rows:
            own = row.get("id") if table in ("practitioners", "users") else None
            assert theirs.id not in {row.get("practitioner_id"), own if table == "practitioners" else None}, (
                row
            )
            assert theirs.user.id not in {
                row.get("user_id"),
                row.get("author_id"),
                own if table == "users" else None,
            }
            assert table != "users" or row["role"] != "admin" or row["id"] in admins, row
            assert table != "credentials" or (row["status"] != "verified" and row["method"] != "roster"), row
            assert table != "reviews" or row["verified_client"] is False, row
            assert table != "review_flags" or row["resolved"] is False, row


def _rows(snap: dict, table: str) -> list[dict]:
    return [dict(row) for row in snap[table]]


@pytest.mark.parametrize("role", ["admin", "ADMIN", "practitioner,admin"])
def test_registering_as_admin_through_the_page_is_refused(app, world, role):
    before = snapshot()
    response = app.test_client().post(
        "/register", data={"email": "new@example.org", "password": PASSWORD, "role": role}
    )
    assert response.status_code == 422 and "Choose client or practitioner." in response.get_data(as_text=True)
    assert changes(before, snapshot()) == {}
