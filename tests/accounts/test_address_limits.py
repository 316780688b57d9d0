"""Every route that checks a password or a code is limited per client address too (on top of the
per-account counts in the database): the third try in a minute here is a 429 with Retry-After."""

import pytest

from tests.factories import PASSWORD, totp_code

ROUTES = [
    # (method, path, who: the caller's set-up, body)
    ("/login", None, lambda f: {"data": {"email": "a@example.org", "password": "wrong guess!!"}}),
    (
        "/api/v1/auth/tokens",
        None,
        lambda f: {"json": {"email": "a@example.org", "password": "wrong guess!!"}},
    ),
    (
        "/account/password",
        "browser",
        lambda f: {"data": {"current_password": "wrong guess!!", "new_password": "another passphrase"}},
    ),
    (
        "/api/v1/auth/password",
        "token",
        lambda f: {"json": {"current_password": "wrong guess!!", "new_password": "another passphrase"}},
    ),
    ("/account/two-factor", "browser", lambda f: {"data": {"totp": "000000"}}),
    ("/account/confirm", "browser", lambda f: {"data": {"password": PASSWORD, "totp": "000000"}}),
    ("/api/v1/auth/recovery-codes", "token", lambda f: {}),
    (
        "/register",
        None,
        lambda f: {"data": {"email": "x@example.org", "password": "short", "role": "client"}},
    ),
    ("/api/v1/auth/password-reset", None, lambda f: {"json": {"email": "x@example.org"}}),
    (
        "/api/v1/auth/password-reset/confirm",
        None,
        lambda f: {"json": {"token": "made-up", "password": "another passphrase"}},
    ),
]


@pytest.mark.parametrize(("path", "who", "body"), ROUTES, ids=[r[0] for r in ROUTES])
def test_each_door_is_limited_per_address(make_app, factory, path, who, body):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_SIGN_IN="2 per minute",
        RATELIMIT_CODES="2 per minute",
        RATELIMIT_REGISTER="2 per minute",
        RATELIMIT_PASSWORD_RESET="2 per minute",
    )
    # The account is made on the suite's app; the requests go to this one (the same database).
    admin = factory.user("admin")
    kwargs = body(factory)
    if who == "browser":
        browser = app.test_client()
        browser.post("/login", data={"email": admin.email, "password": PASSWORD})
        browser.post("/account/two-factor", data={"totp": totp_code(admin)})
    else:
        browser = app.test_client()
    if who == "token":
        token = app.test_client().post(
            "/api/v1/auth/tokens",
            json={"email": admin.email, "password": PASSWORD, "totp": totp_code(admin)},
        )
        kwargs["headers"] = {"Authorization": f"Bearer {token.get_json()['token']}"}
    answers = [browser.post(path, **kwargs, environ_base={"REMOTE_ADDR": "203.0.113.50"}) for _ in range(3)]
    assert [a.status_code == 429 for a in answers] == [False, False, True], [a.status_code for a in answers]
    assert int(answers[2].headers["Retry-After"]) > 0
    other = browser.post(path, **kwargs, environ_base={"REMOTE_ADDR": "198.51.100.50"})
    assert other.status_code != 429  # another address has its own count
