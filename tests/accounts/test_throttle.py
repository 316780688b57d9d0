"""Guessing is throttled, never turned into a lockout of the owner: wrong codes counted on their own
per account whatever the route, wrong passwords per account, address and known browser, with a
delay that grows; the same for accounts that do not exist; counts that survive a rollback."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from directory.accounts import recovery_codes, service, throttle
from directory.accounts.devices import COOKIE
from directory.accounts.models import AuthFailure, MailMessage, RecoveryCode, User
from directory.extensions import db
from directory.rules import RuleError
from directory.timeutil import now_utc
from tests.factories import PASSWORD, authenticator_code, totp_code

TOKENS = "/api/v1/auth/tokens"


def at(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def wrong_code(user) -> str:
    return f"{(int(totp_code(user)) + 500_000) % 1_000_000:06d}"


def failures(kind: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuthFailure).where(AuthFailure.kind == kind)
    )


# -- the routes a code arrives by ------------------------------------------------------------------


def _by_token(app, admin, code):
    return app.test_client().post(TOKENS, json={"email": admin.email, "password": PASSWORD, "totp": code})


def _by_sign_in_page(app, admin, code):
    browser = app.test_client()
    assert browser.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    return browser.post("/account/two-factor", data={"totp": code})


def _by_step_up_page(app, admin, code):
    """The fresh sign-in asked before verifying or revoking: password and code again."""
    browser = app.test_client()
    browser.post("/login", data={"email": admin.email, "password": PASSWORD})
    return browser.post("/account/confirm", data={"password": PASSWORD, "totp": code})


def _fresh_code(user) -> str:
    """A right code the account has not used yet (the step after the last one used)."""
    return authenticator_code(user.totp_secret, steps_ahead=1 if user.totp_last_step else 0)


ROUTES = {"token": _by_token, "sign-in page": _by_sign_in_page, "step-up page": _by_step_up_page}


@pytest.mark.parametrize("route", list(ROUTES))
def test_guessing_codes_is_stopped_at_five_whatever_the_route(app, factory, route):
    admin = factory.user("admin")
    guess = ROUTES[route]
    for _ in range(5):
        assert guess(app, admin, wrong_code(admin)).status_code == 401
    stopped = guess(app, admin, _fresh_code(db.session.get(User, admin.id)))
    assert stopped.status_code == 429
    assert 0 < int(stopped.headers["Retry-After"]) <= 15 * 60
    assert failures("code") == 5  # a refused try is not even checked


def test_guessing_codes_through_enrolment_is_stopped_at_five_too(client, factory):
    admin = service.create_admin("new.admin@example.org", PASSWORD)
    token = client.post(TOKENS, json={"email": admin.email, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/totp", headers=headers).status_code == 201
    pending = db.session.get(User, admin.id).totp_pending
    wrong = f"{(int(authenticator_code(pending)) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/totp/confirm", json={"totp": wrong}, headers=headers).status_code == 401
        )
    right = authenticator_code(pending)
    assert client.post("/api/v1/auth/totp/confirm", json={"totp": right}, headers=headers).status_code == 429


def test_the_routes_share_one_count_and_the_admin_is_mailed_once(app, factory):
    admin = factory.user("admin")
    for guess in (_by_token, _by_token, _by_sign_in_page, _by_sign_in_page, _by_step_up_page):
        assert guess(app, admin, wrong_code(admin)).status_code == 401
    assert _by_token(app, admin, _fresh_code(db.session.get(User, admin.id))).status_code == 429
    alerts = db.session.scalars(
        sa.select(MailMessage).where(MailMessage.subject == "Wrong authenticator codes on your account")
    ).all()
    assert [m.recipient for m in alerts] == [admin.email]
    assert alerts[0].sent_at is not None  # sent after the response, though the attempt was refused


def test_a_correct_password_never_clears_the_wrong_codes(app, factory):
    admin = factory.user("admin")
    for _ in range(4):
        assert _by_token(app, admin, wrong_code(admin)).status_code == 401
        # The password alone is right each time (the sign-in page lets it through to the code step).
        assert (
            app.test_client().post("/login", data={"email": admin.email, "password": PASSWORD}).status_code
            == 302
        )
    assert failures("code") == 4
    assert _by_token(app, admin, wrong_code(admin)).status_code == 401
    assert _by_token(app, admin, _fresh_code(db.session.get(User, admin.id))).status_code == 429


def test_the_code_check_opens_again_when_the_window_has_passed(app, factory):
    admin = factory.user("admin")
    for _ in range(5):
        _by_token(app, admin, wrong_code(admin))
    db.session.execute(sa.update(AuthFailure).values(at=now_utc() - timedelta(minutes=15, seconds=1)))
    db.session.commit()
    assert _by_token(app, admin, _fresh_code(db.session.get(User, admin.id))).status_code == 201


# -- recovery codes ------------------------------------------------------------------------------


def test_a_recovery_code_lets_an_admin_in_once(app, client, factory):
    admin = factory.user("admin")
    codes = recovery_codes.make(db.session.get(User, admin.id))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert not set(codes) & set(stored) and all(len(h) == 64 for h in stored)

    signed = client.post(TOKENS, json={"email": admin.email, "password": PASSWORD, "totp": codes[0].lower()})
    assert signed.status_code == 201
    headers = {"Authorization": f"Bearer {signed.get_json()['token']}"}
    assert client.get("/api/v1/admin/credentials", headers=headers).status_code == 200  # a full admin token
    again = client.post(TOKENS, json={"email": admin.email, "password": PASSWORD, "totp": codes[0]})
    assert again.status_code == 401
    assert _by_sign_in_page(app, admin, codes[1]).status_code == 302
    assert recovery_codes.remaining(db.session.get(User, admin.id)) == 8
    notices = db.session.scalars(
        sa.select(MailMessage.body).where(MailMessage.subject == "A recovery code was used")
    )
    assert [b.split(" are left")[0][-1] for b in notices] == ["9", "8"]


def test_wrong_recovery_codes_count_as_wrong_codes(app, factory):
    admin = factory.user("admin")
    recovery_codes.make(db.session.get(User, admin.id))
    for _ in range(5):
        assert _by_token(app, admin, "AAAA-BBBB-CCCC").status_code == 401
    assert _by_token(app, admin, _fresh_code(db.session.get(User, admin.id))).status_code == 429


def test_new_recovery_codes_replace_the_old_and_need_a_token_with_the_code(client, factory):
    admin = factory.user("admin")
    old = recovery_codes.make(db.session.get(User, admin.id))
    with_code = factory.headers(admin)
    made = client.post("/api/v1/auth/recovery-codes", headers=with_code)
    assert made.status_code == 201 and len(made.get_json()["codes"]) == 10
    refused = client.post(TOKENS, json={"email": admin.email, "password": PASSWORD, "totp": old[0]})
    assert refused.status_code == 401
    # A practitioner, or an admin token issued without the code, cannot make them.
    practitioner = factory.user("practitioner")
    assert (
        client.post("/api/v1/auth/recovery-codes", headers=factory.headers(practitioner)).status_code == 403
    )


# -- passwords: throttled, never locked --------------------------------------------------------------


def test_ten_wrong_passwords_from_one_address_do_not_stop_the_owner_from_another(client, factory):
    user = factory.user()
    for _ in range(10):
        client.post(TOKENS, json={"email": user.email, "password": "wrong guess!!"}, **at("203.0.113.9"))
    held = client.post(TOKENS, json={"email": user.email, "password": PASSWORD}, **at("203.0.113.9"))
    assert held.status_code == 429
    owner = client.post(TOKENS, json={"email": user.email, "password": PASSWORD}, **at("198.51.100.1"))
    assert owner.status_code == 201


def test_an_attackers_failures_do_not_hold_back_the_owners_known_browser(app, factory):
    user = factory.user()
    known = app.test_client()
    assert known.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    known.post("/logout")
    attacker = app.test_client()
    for n in range(40):  # from forty addresses: every count but the known browser's is far past its allowance
        attacker.post(
            "/login", data={"email": user.email, "password": "wrong guess!!"}, **at(f"203.0.113.{n}")
        )
    stranger = app.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD}, **at("198.51.100.1")
    )
    assert stranger.status_code == 429
    owner = known.post("/login", data={"email": user.email, "password": PASSWORD}, **at("198.51.100.1"))
    assert owner.status_code == 302


def test_the_known_browser_is_held_back_by_its_own_failures(app, factory):
    user = factory.user()
    known = app.test_client()
    known.post("/login", data={"email": user.email, "password": PASSWORD})
    known.post("/logout")
    for _ in range(5):
        assert (
            known.post("/login", data={"email": user.email, "password": "wrong guess!!"}).status_code == 401
        )
    assert known.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("cookie", ["garbage", "eyJhIjoiYiJ9.forged.signature", "other-key", "other-account"])
def test_a_forged_device_cookie_counts_for_nothing(app, factory, cookie):
    from itsdangerous import URLSafeTimedSerializer

    user, other = factory.user(), factory.user()
    values = {
        "other-key": URLSafeTimedSerializer("not-the-key", salt="known-device").dumps(
            {"a": throttle.account_key(user.email), "n": "x" * 32}
        ),
        "other-account": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="known-device").dumps(
            {"a": throttle.account_key(other.email), "n": "x" * 32}
        ),
    }
    browser = app.test_client()
    browser.set_cookie(COOKIE, values.get(cookie, cookie))
    for n in range(40):
        app.test_client().post(
            "/login", data={"email": user.email, "password": "wrong guess!!"}, **at(f"203.0.113.{n}")
        )
    assert browser.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("route", ["page", "api"])
def test_the_delay_grows_with_each_failure(client, factory, route):
    user = factory.user()
    waits = []
    for n in range(3, 9):
        db.session.execute(sa.delete(AuthFailure))
        now = now_utc()
        db.session.add_all(
            AuthFailure(
                kind="password", account=throttle.account_key(user.email), address="127.0.0.1", at=now
            )
            for _ in range(n)
        )
        db.session.commit()
        if route == "api":
            response = client.post(TOKENS, json={"email": user.email, "password": PASSWORD})
        else:
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        waits.append(int(response.headers["Retry-After"]))
    assert waits == [1, 2, 4, 8, 16, 32]


def test_three_failures_are_free_and_the_fourth_try_waits(client, factory):
    user = factory.user()
    for _ in range(2):
        assert client.post(TOKENS, json={"email": user.email, "password": "wrong guess!!"}).status_code == 401
    assert client.post(TOKENS, json={"email": user.email, "password": PASSWORD}).status_code == 201
    client.post(TOKENS, json={"email": user.email, "password": "wrong guess!!"})
    assert client.post(TOKENS, json={"email": user.email, "password": PASSWORD}).status_code == 429


def test_spraying_many_accounts_from_one_address_is_slowed(client, factory):
    victims = [f"victim{n}@example.org" for n in range(20)]
    for email in victims:
        assert (
            client.post(
                TOKENS, json={"email": email, "password": "Summer2026!!"}, **at("203.0.113.5")
            ).status_code
            == 401
        )
    user = factory.user()
    held = client.post(TOKENS, json={"email": user.email, "password": PASSWORD}, **at("203.0.113.5"))
    assert held.status_code == 429
    assert (
        client.post(
            TOKENS, json={"email": user.email, "password": PASSWORD}, **at("198.51.100.2")
        ).status_code
        == 201
    )


def test_an_unknown_account_is_throttled_exactly_like_a_known_one(client, factory):
    known = factory.user(email="known@example.org")

    def story(email):
        answers = []
        for _ in range(5):
            r = client.post(TOKENS, json={"email": email, "password": "wrong guess!!"})
            answers.append((r.status_code, r.get_json()["message"], r.headers.get("Retry-After")))
        db.session.execute(sa.delete(AuthFailure))
        db.session.commit()
        return answers

    assert story(known.email) == story("nobody.here@example.org")


def test_a_failure_is_kept_though_the_attempt_rolls_back(app, factory):
    user = factory.user()
    with pytest.raises(RuleError):
        service.authenticate(user.email, "wrong guess!!")
    db.session.rollback()
    assert failures("password") == 1
    admin = factory.user("admin")
    with pytest.raises(RuleError):
        from directory.accounts import totp

        totp.check(db.session.get(User, admin.id), wrong_code(admin))
    db.session.rollback()
    assert failures("code") == 1


def test_a_known_browser_gets_a_signed_httponly_cookie(app, factory):
    user = factory.user()
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and user.email not in cookie


def test_the_account_allows_twenty_failures_from_elsewhere_before_a_stranger_waits(client, factory):
    user = factory.user()
    for n in range(19):  # one each from nineteen addresses: no pair or address count is past its allowance
        client.post(TOKENS, json={"email": user.email, "password": "wrong guess!!"}, **at(f"203.0.113.{n}"))
    assert (
        client.post(
            TOKENS, json={"email": user.email, "password": PASSWORD}, **at("198.51.100.9")
        ).status_code
        == 201
    )
    client.post(TOKENS, json={"email": user.email, "password": "wrong guess!!"}, **at("203.0.113.99"))
    held = client.post(TOKENS, json={"email": user.email, "password": PASSWORD}, **at("198.51.100.9"))
    assert held.status_code == 429


def test_a_correct_code_forgives_the_wrong_ones_before_it(app, factory):
    admin = factory.user("admin")
    for _ in range(4):
        assert _by_token(app, admin, wrong_code(admin)).status_code == 401
    assert _by_token(app, admin, _fresh_code(db.session.get(User, admin.id))).status_code == 201
    for _ in range(4):
        assert _by_token(app, admin, wrong_code(admin)).status_code == 401
    assert failures("code") == 4
