"""Odd input (issue 12, point 8): each is a 4xx with the error shape (a JSON error for /api, an error
page for the site) and changes nothing, on SQLite and on PostgreSQL (DIRECTORY_TEST_DATABASE_URL).

- `next` with CR/LF, tabs, backslashes or another host never redirects away, and never breaks a header;
- a code or number in other scripts' digits (１２３４５６, ١٢٣٤٥٦) is refused, never read as the ASCII one;
- a JSON integer of thousands of digits is a malformed body (400), not a crash in int();
- a lone surrogate ("\\ud800") or a NUL in any text, a NUL in a file name or a path: refused;
- a person's name with bidi overrides, or with nothing visible in it, is refused with the reason.
"""

import dataclasses
import io
import json
from urllib.parse import urlsplit

import pytest

from directory.accounts.models import User
from directory.extensions import db
from directory.web.safety import safe_next
from tests.factories import PASSWORD, PNG, authenticator_code, signed_in, submission, totp_code
from tests.security.world import REVIEW_BODY, World, changes, snapshot

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
SCRIPTS = {"fullwidth": FULLWIDTH, "arabic-indic": ARABIC_INDIC, "devanagari": DEVANAGARI}
HUGE = "1" * 5000  # past Python's 4300-digit limit for int()
BIG = "1" + "0" * 400  # an int() that fits, but no float does
LONE = "\ud800"


@dataclasses.dataclass(frozen=True)
class Case:
    """One request: who sends it (a World role, or nobody), where, and what."""

    who: str | None
    method: str
    url: object  # str, or callable(world) -> str
    json: object = None  # a body for json.dumps, or callable(world) -> one
    raw: str | None = None  # a JSON body as text (what json.dumps cannot write)
    form: object = None  # form fields, or callable(world) -> them
    files: dict = dataclasses.field(default_factory=dict)  # name -> (content, file name)
    expect: tuple[int, ...] = (422,)
    field: str | None = None  # the field the API's error must name


def _call(value, world):
    return value(world) if callable(value) else value


def prepare(app, world, case: Case, page: bool):
    """The signed-in browser or the API client with its token, made before anything is judged."""
    user = world.user(case.who)
    if page:
        return (signed_in(app, user) if user is not None else app.test_client()), {}
    return app.test_client(), (world.headers(case.who) if user is not None else {})


def request_of(case: Case, world, headers: dict) -> dict:
    """The test client's arguments for the case (its body built now, with whatever it needs made)."""
    kwargs: dict = {"headers": headers}
    if case.raw is not None:
        kwargs.update(data=case.raw.encode(), content_type="application/json")
    elif case.json is not None:
        # json.dumps writes a lone surrogate as the escape \ud800, as a client's encoder would.
        kwargs.update(data=json.dumps(_call(case.json, world)), content_type="application/json")
    elif case.form is not None or case.files:
        data = dict(_call(case.form, world) or {})
        data.update({name: (io.BytesIO(body), filename) for name, (body, filename) in case.files.items()})
        kwargs.update(data=data, content_type="multipart/form-data" if case.files else None)
    return kwargs


def assert_refused(response, case: Case, page: bool) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code in case.expect, f"{response.status_code} {text[:1500]}"
    if page:
        assert response.mimetype == "text/html", text[:300]
        assert text.lstrip().lower().startswith("<!doctype html"), text[:300]
    else:
        assert response.mimetype == "application/json", text[:300]
        body = response.get_json()
        assert body["code"] == response.status_code and body["status"] and body["message"], body
        assert case.field is None or case.field in body.get("errors", {}), body


@pytest.fixture
def world(factory, client):
    return World(factory, client)


def run(app, world, case: Case) -> str:
    """Send the case, check it was refused and changed nothing; the answer's text. Whatever the request
    needs (its sender signed in, the objects its URL and body name) is made before the snapshot."""
    url = _call(case.url, world)
    page = not url.startswith("/api/")
    http, headers = prepare(app, world, case, page)
    kwargs = request_of(case, world, headers)
    before = snapshot()
    response = http.open(url, method=case.method, **kwargs)
    assert_refused(response, case, page)
    assert changes(before, snapshot()) == {}
    return response.get_data(as_text=True)


# --- `next`: only a path on this site ----------------------------------------------------------------

OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example/",
    "HTTPS:evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",  # a browser drops tabs and line breaks from a URL: "//evil.example"
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/ok\r\nSet-Cookie: stolen=1",
    "/ok\nLocation: https://evil.example/",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\u2028/evil.example",
    "/\u3000/evil.example",
    "／／evil.example",  # full-width solidus: not a path at all
    "/%2F/evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/.\\./evil.example",
]
ON_SITE = ["/account", "/practitioners/5?tab=reviews#top", "/admin/credentials/3", "/search?q=caf%C3%A9"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_anything_a_browser_could_read_as_another_site(target):
    kept = safe_next(target)
    if kept is not None:
        assert kept.startswith("/") and not kept.startswith("//"), kept
        assert all(33 <= ord(ch) < 127 for ch in kept) and "\\" not in kept, repr(kept)
        assert urlsplit(kept).netloc == "" and urlsplit(kept).scheme == ""


@pytest.mark.parametrize("target", ON_SITE)
def test_safe_next_keeps_a_path_on_this_site(target):
    assert safe_next(target) == target


def test_safe_next_keeps_a_non_ascii_path_percent_encoded():
    assert safe_next("/search?q=café") == "/search?q=caf%C3%A9"


def _assert_on_site(response) -> None:
    assert response.status_code == 302 or 400 <= response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 302:
        location = response.headers["Location"]
        assert all(33 <= ord(ch) < 127 for ch in location), repr(location)
        parts = urlsplit(location)
        assert parts.netloc in ("", "localhost") and not parts.path.startswith("//"), location
        assert "\\" not in location and "evil" not in parts.netloc, location


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_with_an_odd_next_stays_on_the_site(app, factory, target):
    user = factory.user("client")
    response = app.test_client().post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    _assert_on_site(response)


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("page", ["/account/two-factor", "/account/confirm"])
def test_an_admin_passing_the_code_with_an_odd_next_stays_on_the_site(app, factory, page, target):
    admin = factory.user("admin")
    browser = signed_in(app, admin)
    form = {"totp": totp_code(admin)}
    if page == "/account/confirm":
        form["password"] = PASSWORD
    _assert_on_site(browser.post(page, query_string={"next": target}, data=form))


# --- codes and numbers in other scripts' digits --------------------------------------------------------


def _code(user_or_secret, script: str) -> str:
    """The code that is right now, written in another script's digits."""
    return authenticator_code(user_or_secret).translate(SCRIPTS[script])


def _admin_code(w, script: str) -> str:
    user = db.session.get(User, w.user("admin").id)
    user.totp_last_step = None
    db.session.commit()
    return _code(user.totp_secret, script)


def _enrolment_code(w, script: str) -> str:
    return _code(db.session.get(User, w.user("enrolling").id).totp_pending, script)


def code_cases(script: str) -> dict[str, Case]:
    return {
        "api-token": Case(
            None,
            "POST",
            "/api/v1/auth/tokens",
            json=lambda w: {
                "email": w.user("admin").email,
                "password": PASSWORD,
                "totp": _admin_code(w, script),
            },
            expect=(401, 422),
            field="totp",
        ),
        "api-enrol": Case(
            "enrolling",
            "POST",
            "/api/v1/auth/totp/confirm",
            json=lambda w: {"totp": _enrolment_code(w, script)},
            expect=(401, 422),
            field="totp",
        ),
        "page-two-factor": Case(
            "admin",
            "POST",
            "/account/two-factor",
            form=lambda w: {"totp": _admin_code(w, script)},
            expect=(401, 422),
        ),
        "page-confirm": Case(
            "admin",
            "POST",
            "/account/confirm",
            form=lambda w: {"password": PASSWORD, "totp": _admin_code(w, script)},
            expect=(401, 422),
        ),
    }


CODE_CASES = [
    pytest.param(script, name, id=f"{name}-{script}") for script in SCRIPTS for name in code_cases(script)
]


@pytest.mark.parametrize(("script", "name"), CODE_CASES)
def test_an_authenticator_code_in_other_digits_is_refused(app, world, script, name):
    case = code_cases(script)[name]
    run(app, world, case)


def test_the_same_code_in_ascii_digits_still_passes(client, world):
    body = {"email": world.user("admin").email, "password": PASSWORD, "totp": _admin_code(world, "fullwidth")}
    body["totp"] = body["totp"].translate({ord(d): str(i) for i, d in enumerate("０１２３４５６７８９")})
    assert client.post("/api/v1/auth/tokens", json=body).status_code == 201


def _digits(text: str, script: str = "arabic-indic") -> str:
    return text.translate(SCRIPTS[script])


def _profile(**fields) -> dict:
    return {"display_name": "Pat Kneads", "languages": ["en"], **fields}


def _profile_form(**fields) -> dict:
    return {"display_name": "Pat Kneads", "languages": "en", **fields}


PRACTITIONER_URL = "/api/v1/practitioners/{}/reviews"

NUMBER_CASES = {
    # The API's query strings
    "api-search-page": Case(None, "GET", f"/api/v1/search?page={_digits('2')}", field="page"),
    "api-search-per-page": Case(None, "GET", f"/api/v1/search?per_page={_digits('10')}", field="per_page"),
    "api-search-lat-lon": Case(None, "GET", f"/api/v1/search?lat={_digits('30')}&lon=-97", field="lat"),
    "api-search-min-years": Case(None, "GET", f"/api/v1/search?min_years={_digits('5')}", field="min_years"),
    "api-reviews-page": Case(
        None,
        "GET",
        lambda w: f"/api/v1/practitioners/{w.id('practitioner')}/reviews?page={_digits('1')}",
        field="page",
    ),
    "api-feed-after": Case(None, "GET", f"/api/v1/verification-events?after={_digits('10')}", field="after"),
    "api-queue-page": Case(
        "admin", "GET", f"/api/v1/admin/credentials?page={_digits('1', 'fullwidth')}", field="page"
    ),
    "api-audit-id": Case(
        "admin", "GET", f"/api/v1/admin/audit?credential_id={_digits('1')}", field="credential_id"
    ),
    # The API's bodies: numbers given as text, and dates
    "api-location-lat-text": Case(
        "practitioner", "POST", "/api/v1/me/locations", json={"lat": _digits("30"), "lon": "-97"}, field="lat"
    ),
    "api-credential-date": Case(
        "practitioner",
        "POST",
        "/api/v1/me/credentials",
        form=submission(number="CMT-3003", issued_on=_digits("2015-06-01")),
        files={"evidence": (PNG, "licence.png")},
        field="issued_on",
    ),
    # The pages
    "page-profile-year": Case(
        "practitioner", "POST", "/account", form=_profile_form(practicing_since=_digits("1990"))
    ),
    "page-profile-price": Case(
        "practitioner", "POST", "/account", form=_profile_form(price_min=_digits("60", "fullwidth"))
    ),
    "page-location-lat": Case(
        "practitioner",
        "POST",
        "/account/locations",
        form={"lat": _digits("30"), "lon": "-97", "city": "Austin"},
    ),
    "page-search-page": Case(None, "GET", f"/?page={_digits('2')}"),
    "page-queue-page": Case("admin", "GET", f"/admin/credentials?page={_digits('1')}"),
    "page-review-rating": Case(
        "newcomer",
        "POST",
        lambda w: f"/practitioners/{w.id('practitioner')}/reviews",
        form={"rating": _digits("5", "fullwidth"), "body": REVIEW_BODY},
    ),
    "page-credential-date": Case(
        "practitioner",
        "POST",
        "/account/credentials",
        form=submission(number="CMT-3004", issued_on=_digits("2015-06-01")),
        files={"evidence": (PNG, "licence.png")},
    ),
}


# Fields in modules this change leaves to their owners: each waits for the one-line change named.
@pytest.mark.parametrize("name", list(NUMBER_CASES))
def test_a_number_in_other_digits_is_refused(app, world, name):
    run(app, world, NUMBER_CASES[name])


# --- JSON integers of thousands of digits ----------------------------------------------------------------


def _raw(fields: dict, name: str, literal: str) -> str:
    """`fields` as JSON with `name` set to a number literal json.dumps could not write."""
    return json.dumps({**fields, name: "@"}).replace('"@"', literal)


HUGE_CASES = {
    "profile-year": Case(
        "practitioner", "PUT", "/api/v1/me/profile", raw=_raw(_profile(), "practicing_since", HUGE)
    ),
    "profile-price": Case(
        "practitioner", "PUT", "/api/v1/me/profile", raw=_raw(_profile(), "price_min", HUGE)
    ),
    "location-lat": Case("practitioner", "POST", "/api/v1/me/locations", raw=_raw({"lon": 0}, "lat", HUGE)),
    "location-lat-400-digits": Case(
        "practitioner", "POST", "/api/v1/me/locations", raw=_raw({"lon": 0}, "lat", BIG), expect=(400, 422)
    ),
    "review-rating": Case(
        "newcomer",
        "POST",
        lambda w: f"/api/v1/practitioners/{w.id('practitioner')}/reviews",
        raw=_raw({"body": REVIEW_BODY}, "rating", HUGE),
    ),
    "review-rating-negative": Case(
        "newcomer",
        "POST",
        lambda w: f"/api/v1/practitioners/{w.id('practitioner')}/reviews",
        raw=_raw({"body": REVIEW_BODY}, "rating", "-" + HUGE),
    ),
    "nested-in-a-list": Case(
        "practitioner", "PUT", "/api/v1/me/profile", raw=_raw(_profile(), "techniques", f"[{HUGE}]")
    ),
    "decision": Case(
        "admin",
        "POST",
        lambda w: f"/api/v1/admin/credentials/{w.id('pending')}/decision",
        raw=_raw({"action": "reject"}, "reason", HUGE),
    ),
    "sign-in": Case(
        None, "POST", "/api/v1/auth/tokens", raw=_raw({"email": "a@example.org"}, "password", HUGE)
    ),
}


@pytest.mark.parametrize("name", list(HUGE_CASES))
def test_a_json_integer_of_thousands_of_digits_is_a_malformed_body(app, world, name):
    case = HUGE_CASES[name]
    run(app, world, case if case.expect != (422,) else dataclasses.replace(case, expect=(400,)))


def test_a_big_integer_in_a_query_string_is_a_422(client):
    response = client.get(f"/api/v1/search?page={HUGE}&lat={BIG}&lon=0")
    assert response.status_code == 422 and {"page", "lat"} <= set(response.get_json()["errors"]), (
        response.get_json()
    )


# --- lone surrogates and NUL in text -------------------------------------------------------------------


def text_cases(bad: str) -> dict[str, Case]:
    review_url = lambda w: f"/api/v1/practitioners/{w.id('practitioner')}/reviews"  # noqa: E731
    return {
        "register-email": Case(
            None,
            "POST",
            "/api/v1/auth/register",
            json={"email": f"a{bad}@example.org", "password": PASSWORD, "role": "client"},
            field="email",
        ),
        "register-password": Case(
            None,
            "POST",
            "/api/v1/auth/register",
            json={"email": "odd@example.org", "password": PASSWORD + bad, "role": "client"},
            field="password",
        ),
        "sign-in-password": Case(
            None,
            "POST",
            "/api/v1/auth/tokens",
            json=lambda w: {"email": w.user("client").email, "password": bad},
            field="password",
        ),
        "reset-token": Case(
            None,
            "POST",
            "/api/v1/auth/password-reset/confirm",
            json={"token": f"abc{bad}", "password": PASSWORD},
            field="token",
        ),
        "profile-name": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/profile",
            json=_profile(display_name=f"Pat{bad}"),
            field="display_name",
        ),
        "profile-headline": Case(
            "practitioner", "PUT", "/api/v1/me/profile", json=_profile(headline=bad), field="headline"
        ),
        "profile-technique": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/profile",
            json=_profile(techniques=[f"swedish{bad}"]),
            field="techniques",
        ),
        "profile-language": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/profile",
            json=_profile(languages=[f"e{bad}"]),
            field="languages",
        ),
        "a-field-name": Case("practitioner", "PUT", "/api/v1/me/profile", json={**_profile(), f"x{bad}": 1}),
        "location-city": Case(
            "practitioner", "POST", "/api/v1/me/locations", json={"city": f"Austin{bad}"}, field="city"
        ),
        "legal-name": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/legal-name",
            json={"legal_name": f"Pat {bad}Doe"},
            field="legal_name",
        ),
        "review-body": Case(
            "newcomer", "POST", review_url, json={"rating": 4, "body": REVIEW_BODY + bad}, field="body"
        ),
        "review-author": Case(
            "newcomer",
            "POST",
            review_url,
            json={"rating": 4, "body": REVIEW_BODY, "author_name": f"Sam{bad}"},
            field="author_name",
        ),
        "review-invite": Case(
            "newcomer",
            "POST",
            review_url,
            json={"rating": 4, "body": REVIEW_BODY, "invite_code": f"abcdefgh{bad}"},
            field="invite_code",
        ),
        "flag": Case(
            "newcomer",
            "POST",
            lambda w: f"/api/v1/reviews/{w.id('review')}/flags",
            json={"reason": f"Spam {bad}"},
            field="reason",
        ),
        "decision": Case(
            "admin",
            "POST",
            lambda w: f"/api/v1/admin/credentials/{w.id('pending')}/decision",
            json={"action": "reject", "reason": f"No{bad}"},
            field="reason",
        ),
        "decision-action": Case(
            "admin",
            "POST",
            lambda w: f"/api/v1/admin/credentials/{w.id('pending')}/decision",
            json={"action": f"reject{bad}", "reason": "No"},
            field="action",
        ),
    }


TEXT_CASES = [
    pytest.param(bad, name, id=f"{name}-{label}")
    for label, bad in (("surrogate", LONE), ("nul", "\x00"))
    for name in text_cases(bad)
]


@pytest.mark.parametrize(("bad", "name"), TEXT_CASES)
def test_a_lone_surrogate_or_a_nul_in_json_text_is_refused(app, world, bad, name):
    run(app, world, text_cases(bad)[name])


NUL_CASES = {
    # File names of uploads
    "api-upload-name": Case(
        "practitioner",
        "POST",
        "/api/v1/me/credentials",
        form=submission(number="CMT-5005"),
        files={"evidence": (PNG, "lic\x00ence.png")},
        field="evidence",
    ),
    "api-resubmit-name": Case(
        "practitioner",
        "POST",
        lambda w: f"/api/v1/me/credentials/{w.id('rejected')}/evidence",
        files={"evidence": (PNG, "scan\x00.png")},
        field="evidence",
    ),
    "api-roster-name": Case(
        "admin",
        "POST",
        "/api/v1/admin/issuers/camtc/roster",
        files={"file": (b"number,name,status,expires_on\n", "roster\x00.csv")},
        field="file",
    ),
    "page-upload-name": Case(
        "practitioner",
        "POST",
        "/account/credentials",
        form=submission(number="CMT-5006"),
        files={"evidence": (PNG, "lic\x00ence.png")},
    ),
    "page-resubmit-name": Case(
        "practitioner",
        "POST",
        lambda w: f"/account/credentials/{w.id('rejected')}/resubmit",
        files={"evidence": (PNG, "scan\x00.png")},
    ),
    # Query strings
    "api-verify": Case(None, "GET", "/api/v1/verify?issuer=camtc&number=CMT%00", field="number"),
    "api-verify-issuer": Case(None, "GET", "/api/v1/verify?issuer=cam%00tc&number=CMT-1", field="issuer"),
    "api-queue-q": Case("admin", "GET", "/api/v1/admin/credentials?q=CMT%00", field="q"),
    "api-queue-issuer": Case("admin", "GET", "/api/v1/admin/credentials?issuer=cam%00", field="issuer"),
    "api-search-q": Case(None, "GET", "/api/v1/search?q=swedish%00", field="q"),
    "api-search-near": Case(None, "GET", "/api/v1/search?near=Austin%00", field="near"),
    "api-search-technique": Case(None, "GET", "/api/v1/search?technique=swe%00", field="technique"),
    "page-verify": Case(None, "GET", "/verify?issuer=camtc&number=CMT%00"),
    "page-search": Case(None, "GET", "/?q=swedish%00&near=Austin"),
    "page-queue-q": Case("admin", "GET", "/admin/credentials?q=CMT%00"),
    "page-rosters": Case("admin", "GET", "/admin/rosters?issuer=cam%00tc"),
    "page-review-invite": Case(None, "GET", lambda w: f"/practitioners/{w.id('practitioner')}?invite=ab%00"),
    # Form fields
    "page-login": Case(None, "POST", "/login", form={"email": "a\x00@example.org", "password": PASSWORD}),
    "page-login-password": Case(
        None, "POST", "/login", form=lambda w: {"email": w.user("client").email, "password": "\x00"}
    ),
    "page-profile-technique": Case(
        "practitioner", "POST", "/account", form=_profile_form(techniques="swe\x00")
    ),
    "page-location": Case("practitioner", "POST", "/account/locations", form={"city": "Aus\x00tin"}),
    # Paths
    "api-attestation": Case(None, "GET", "/api/v1/attestations/" + "a" * 21 + "%00", expect=(404,)),
    "api-roster-slug": Case(
        "admin",
        "POST",
        "/api/v1/admin/issuers/cam%00tc/roster",
        files={"file": (b"number,name\n", "r.csv")},
        expect=(404, 422),
    ),
    "page-roster-slug": Case("admin", "GET", "/admin/issuers/cam%00tc/roster", expect=(404,)),
    "page-reset-link": Case(None, "GET", "/password-reset/abc%00def", expect=(404, 422)),
}


@pytest.mark.parametrize("name", list(NUL_CASES))
def test_a_nul_anywhere_in_a_request_is_refused(app, world, name):
    run(app, world, NUL_CASES[name])


# --- a person's name: no direction overrides, something visible -------------------------------------------

BIDI = {
    "rlo": "Pat \u202eKneads",
    "lro": "\u202dPat Kneads",
    "rle": "Pat\u202b Kneads",
    "lre": "\u202aPat Kneads\u202c",
    "pdf-only": "Pat Kneads\u202c",
    "rli": "Pat \u2067Kneads\u2069",
    "lri": "\u2066Pat\u2069",
    "fsi": "\u2068Pat\u2069 Kneads",
}
INVISIBLE = {
    "zero-width-space": "\u200b\u200b",
    "zwj-zwnj": "\u200d\u200c",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "soft-hyphen": "\u00ad\u00ad",
    "hangul-filler": "\u3164",
    "halfwidth-hangul-filler": "\uffa0",
    "braille-blank": "\u2800\u2800",
    "combining-only": "\u0301\u0308",
    "lrm-only": "\u200e",
    "tag-characters": "\U000e0041\U000e0042",
    "variation-selector": "\ufe0f",
    "mixed": " \u200b\u3000\u2060 ",
}
GOOD_NAMES = ["Zoë O'Brien", "محمد علي", "李小龙", "Ngozi Okonjo-Iweala", "क्\u200dष Sharma", "אבי \u200fכהן"]


def name_cases(name: str) -> dict[str, Case]:
    review_url = lambda w: f"/api/v1/practitioners/{w.id('practitioner')}/reviews"  # noqa: E731
    return {
        "api-display-name": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/profile",
            json=_profile(display_name=name),
            field="display_name",
        ),
        "api-legal-name": Case(
            "practitioner",
            "PUT",
            "/api/v1/me/legal-name",
            json={"legal_name": f"{name} Doe"},
            field="legal_name",
        ),
        "api-review-author": Case(
            "newcomer",
            "POST",
            review_url,
            json={"rating": 4, "body": REVIEW_BODY, "author_name": name},
            field="author_name",
        ),
        "page-display-name": Case("practitioner", "POST", "/account", form=_profile_form(display_name=name)),
        "page-legal-name": Case(
            "practitioner", "POST", "/account/legal-name", form={"legal_name": f"{name} Doe"}
        ),
        "page-review-author": Case(
            "newcomer",
            "POST",
            lambda w: f"/practitioners/{w.id('practitioner')}/reviews",
            form={"rating": "4", "body": REVIEW_BODY, "author_name": name},
        ),
    }


NAME_FIELDS = list(name_cases("x"))
BAD_NAMES = [
    pytest.param(text, where, id=f"{where}-{label}")
    for label, text in {**BIDI, **INVISIBLE}.items()
    for where in NAME_FIELDS
    # "Doe" makes a legal name visible whatever comes before it; only its bidi cases apply.
    if not (where.endswith("legal-name") and label in INVISIBLE)
]


@pytest.mark.parametrize(("text", "where"), BAD_NAMES)
def test_a_name_with_direction_overrides_or_nothing_visible_is_refused(app, world, text, where):
    words = run(app, world, name_cases(text)[where]).lower()
    assert "direction" in words or "visible" in words, words[:2000]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_in_any_script_are_still_taken(client, world, name):
    response = client.put(
        "/api/v1/me/profile", json=_profile(display_name=name), headers=world.headers("practitioner")
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == name
