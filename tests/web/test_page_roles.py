"""Who may open each page: every role-protected page (and form target) of the site, called by an
anonymous visitor, a client, a practitioner and an admin.

Anonymous callers are sent to the sign-in page, which brings them back (`next`); a signed-in caller
whose role the page does not serve gets 403; the roles it serves get past the door (whatever the
page then answers to an empty form or an id that names nothing: never 403, never the sign-in page).
The table is checked against the app's routes, so a new page fails here until it has a row.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import signed_in

SIGNED_IN = frozenset({"client", "practitioner", "admin"})
PRACTITIONER = frozenset({"practitioner"})
ADMIN = frozenset({"admin"})
ROLES = ("anonymous", "client", "practitioner", "admin")

# (method, path as called) -> the roles the page serves. Ids name nothing: the role is checked first.
TABLE = {
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account"): SIGNED_IN,
    ("GET", "/account/security"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/sign-out-everywhere"): SIGNED_IN,
    ("POST", "/account/confirm-email"): SIGNED_IN,
    ("POST", "/logout"): SIGNED_IN,
    ("POST", "/practitioners/999999/reviews"): SIGNED_IN,
    ("POST", "/reviews/999999/flags"): SIGNED_IN,
    ("POST", "/account/confirm-accepting"): PRACTITIONER,
    ("POST", "/account/locations"): PRACTITIONER,
    ("POST", "/account/locations/999999/delete"): PRACTITIONER,
    ("GET", "/account/credentials"): PRACTITIONER,
    ("POST", "/account/credentials"): PRACTITIONER,
    ("GET", "/account/credentials/999999/evidence/1"): PRACTITIONER,
    ("POST", "/account/credentials/999999/resubmit"): PRACTITIONER,
    ("POST", "/account/legal-name"): PRACTITIONER,
    ("GET", "/account/reviews"): PRACTITIONER,
    ("POST", "/account/reviews/invites"): PRACTITIONER,
    ("POST", "/account/reviews/999999/response"): PRACTITIONER,
    ("GET", "/account/two-factor"): ADMIN,
    ("POST", "/account/two-factor"): ADMIN,
    ("GET", "/account/confirm"): ADMIN,
    ("POST", "/account/confirm"): ADMIN,
    ("GET", "/account/recovery-codes"): ADMIN,
    ("POST", "/account/recovery-codes"): ADMIN,
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/credentials"): ADMIN,
    ("GET", "/admin/credentials/999999"): ADMIN,
    ("POST", "/admin/credentials/999999/decision"): ADMIN,
    ("GET", "/admin/credentials/999999/evidence/1"): ADMIN,
    ("GET", "/admin/credentials/999999/evidence/1/preview"): ADMIN,
    ("GET", "/admin/rechecks"): ADMIN,
    ("GET", "/admin/reviews"): ADMIN,
    ("POST", "/admin/reviews/999999/moderation"): ADMIN,
    ("GET", "/admin/rosters"): ADMIN,
    ("GET", "/admin/issuers/camtc/roster"): ADMIN,
    ("POST", "/admin/issuers/camtc/roster"): ADMIN,
}
# Pages anyone may open: the directory itself, and the doors into an account.
PUBLIC = {
    "/",
    "/verify",
    "/practitioners/<id:practitioner_id>",
    "/register",
    "/login",
    "/password-reset",
    "/password-reset/<token>",
    "/password-reset/new",
    "/confirm-email/<token>",
    "/healthz",
    "/readyz",
}
NOT_PAGES = ("/api/", "/static/", "/.well-known/")


def _matches(rule, method: str, path: str) -> bool:
    adapter = rule.map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:
        return False
    return endpoint == rule.endpoint


def test_every_page_of_the_site_has_a_row(app):
    """A page added without saying who may open it fails here."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(NOT_PAGES) or rule.rule in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not any(m == method and _matches(rule, m, path) for m, path in TABLE):
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def _expected(role: str, allowed: frozenset) -> str:
    if role == "anonymous":
        return "sign in"
    return "through" if role in allowed else "403"


def _answer(response, path: str) -> str:
    if response.status_code == 403:
        return "403"
    where = urlsplit(response.headers.get("Location", ""))
    # The sign-in page with the way back: the door itself. Signing out also ends on /login, without it.
    if response.status_code == 302 and where.path == "/login" and "next" in parse_qs(where.query):
        back = parse_qs(where.query)["next"][0]
        return "sign in" if urlsplit(back).path == path else f"sign in, back to {back!r}"
    return "through"


@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_its_row_says(app, factory, client, role):
    user = factory.user(role) if role != "anonymous" else None
    answers = {}
    for method, path in TABLE:
        # A fresh browser for each call: some (sign out, sign out everywhere) end the session.
        browser = signed_in(app, user) if user is not None else client
        answers[(method, path)] = _answer(browser.open(path, method=method), path)
    assert answers == {row: _expected(role, allowed) for row, allowed in TABLE.items()}
