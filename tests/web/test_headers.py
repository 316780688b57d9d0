"""Security headers on every response: a crawl of every rule in the URL map, each method it allows and
one it does not, with real and nonexistent ids, anonymous and signed in, over http and https; then
errors (a forced 500, unknown paths), HSTS behind a proxy, and what each header is for."""

import io
import re
from collections import Counter

import pytest
from flask import request, request_finished, url_for

from directory.web.headers import tile_source
from tests.factories import PNG, signed_in, submission

SITE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
MISSING_ID = 999_999
# Path arguments no factory object answers to still get a value, so a new route is crawled too.
MISSING = {"id": MISSING_ID, "filename": "css/no-such-file.css", "slug": "no-such-issuer", "jti": "Z" * 22}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
UNKNOWN_PATHS = ("/no-such-page", "/api/v1/no-such-thing", "/static/no-such.js", "/practitioners/no/such")


def policy(response) -> dict:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def get(client, path: str, **kwargs):
    """GET and close: a file response holds its file open until closed."""
    response = client.get(path, **kwargs)
    response.close()
    return response


def assert_secure(response, where: str, https: bool = False) -> None:
    headers = response.headers
    csp = policy(response)
    assert csp, f"{where}: no Content-Security-Policy"
    assert "unsafe-inline" not in str(csp) and "unsafe-eval" not in str(csp), where
    if "sandbox" in csp:  # evidence files bring their own, stricter policy
        assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'", where
    else:
        assert {k: csp.get(k) for k in SITE_POLICY} == SITE_POLICY, where
        assert csp["img-src"].startswith("'self' data:"), where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in REFERRER_POLICIES, where
    hsts = headers.get("Strict-Transport-Security")
    if https:
        assert hsts and "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15552000, where
    else:
        assert hsts is None, where


class Site:
    """Real objects for every kind of path argument, and the people who own or judge them."""

    def __init__(self, app, factory):
        self.app, self.factory = app, factory
        self.practitioner = factory.practitioner(display_name="Casey Lin")
        self.location = factory.location(self.practitioner)
        self.admin = factory.user("admin")
        client = app.test_client()
        created = client.post(
            "/api/v1/me/credentials",
            data={**submission(), "evidence": (io.BytesIO(PNG), "licence.png")},
            headers=factory.headers(self.practitioner.user),
            content_type="multipart/form-data",
        )
        assert created.status_code == 201, created.get_json()
        author = factory.user("client")
        written = client.post(
            f"/api/v1/practitioners/{self.practitioner.id}/reviews",
            json={"rating": 4, "body": "Careful, patient work on my shoulders.", "author_name": "Sam T."},
            headers=factory.headers(author),
        )
        assert written.status_code == 201, written.get_json()
        self.real = {
            "practitioner_id": self.practitioner.id,
            "location_id": self.location.id,
            "credential_id": created.get_json()["id"],
            "version": 1,
            "review_id": written.get_json()["id"],
            "slug": "camtc",
            "filename": "css/site.css",
            "jti": "A" * 22,
        }

    def fillings(self, rule) -> list[dict]:
        """Path values: the real objects, then ones that do not exist (one set for a plain path)."""
        if not rule.arguments:
            return [{}]
        real, missing = {}, {}
        for name in rule.arguments:
            converter = re.search(rf"<(\w+)(?:\([^)]*\))?:{name}>", rule.rule)
            is_id = bool(converter) and converter.group(1) in ("id", "int")
            real[name] = self.real.get(name, 1 if is_id else "x")
            missing[name] = MISSING_ID if is_id else MISSING.get(name, "no-such-thing")
        return [real, missing]

    def visitors(self) -> list["Visitor"]:
        return [
            Visitor(self, "anonymous"),
            Visitor(self, "anonymous https", https=True),
            Visitor(self, "practitioner", self.practitioner.user),
            Visitor(self, "admin", self.admin),
        ]


class Visitor:
    """Someone crawling: anonymous, or signed in both ways at once (page cookie and API bearer token)."""

    def __init__(self, site, name: str, user=None, https: bool = False):
        self.site, self.name, self.user, self.https = site, name, user, https
        self.base = "https://localhost" if https else "http://localhost"
        self.client, self.headers, self.starts = None, {}, 0

    def open(self, path: str, method: str):
        if self.client is None:
            self.client = self.site.app.test_client()
            if self.user is not None:
                self.client = signed_in(self.site.app, self.user)
                self.headers = self.site.factory.headers(self.user)
            self.starts += 1
        response = self.client.open(path, method=method, headers=self.headers, base_url=self.base)
        response.close()  # a file response holds its file open until closed
        if self.user is not None and method not in SAFE_METHODS and response.status_code < 400:
            # It did something, perhaps ended this session or token (sign-out, a new password):
            # start again, so that every later request is made as who it claims to be.
            self.client = None
        return response


def unused_method(rule, rules) -> str:
    taken = set().union(*(r.methods for r in rules if r.rule == rule.rule))
    return next(m for m in ("PATCH", "DELETE", "PUT", "POST", "GET") if m not in taken)


@pytest.fixture
def dispatched(app):
    """The URL rules that actually handled a request (not merely that a URL was built)."""
    seen = set()

    def record(sender, response, **extra):
        if request.url_rule is not None:
            seen.add(id(request.url_rule))  # Rule defines __eq__ but no hash

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)


def test_every_route_answers_with_the_security_headers(app, factory, dispatched, record_property):
    site = Site(app, factory)
    rules = list(app.url_map.iter_rules())
    statuses: Counter = Counter()
    requests = 0
    visitors = site.visitors()
    for rule in rules:
        methods = [*sorted(rule.methods), unused_method(rule, rules)]
        for visitor in visitors:
            for values in site.fillings(rule):
                path = rule.build(values, append_unknown=False)[1]
                for method in methods:
                    response = visitor.open(path, method)
                    where = f"{method} {path} as {visitor.name} -> {response.status_code}"
                    assert_secure(response, where, https=visitor.https)
                    assert response.status_code < 500, where
                    if method not in rule.methods:
                        # 405, or a sign-in answer where a guard on a whole section runs before routing's.
                        assert response.status_code in (302, 401, 403, 405), where
                    if visitor.user is not None and rule.endpoint != "static":
                        assert response.headers.get("Cache-Control") == "no-store", where
                    statuses[response.status_code] += 1
                    requests += 1
    for path in UNKNOWN_PATHS:
        response = get(app.test_client(), path)
        assert response.status_code == 404 and not response.headers.get("Strict-Transport-Security")
        assert_secure(response, f"GET {path}")
        requests += 1

    missed = sorted(f"{r.rule} ({r.endpoint})" for r in rules if id(r) not in dispatched)
    assert not missed, f"never dispatched: {missed}"
    classes = {code // 100 for code in statuses}
    assert {2, 3, 4} <= classes and statuses[405] and statuses[404], statuses
    record_property("routes_crawled", len(rules))
    record_property("requests_crawled", requests)
    sign_ins = sum(v.starts for v in visitors if v.user is not None)
    print(f"routes crawled for headers: {len(rules)} rules, {requests} requests ({sign_ins} sign-ins)")
    print(f"statuses: {dict(sorted(statuses.items()))}")


@pytest.fixture
def boom(app, monkeypatch):
    """Makes two pages and an API view raise, with exceptions turned into 500s as in production."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def explode(*args, **kwargs):
        raise RuntimeError("forced failure")

    for endpoint in ("web.home", "catalog_api.vocabulary", "practitioners.dashboard"):
        monkeypatch.setitem(app.view_functions, endpoint, explode)


@pytest.mark.parametrize("path", ["/", "/api/v1/vocabulary"])
@pytest.mark.parametrize("https", [False, True])
def test_a_server_error_carries_the_headers(client, boom, path, https):
    response = client.get(path, base_url="https://localhost" if https else "http://localhost")
    assert response.status_code == 500
    assert "forced failure" not in response.get_data(as_text=True)
    assert_secure(response, f"500 {path}", https=https)


def test_a_server_error_for_a_signed_in_user_is_not_stored(app, factory, boom):
    browser = signed_in(app, factory.user("practitioner"))
    response = browser.get("/account")
    assert response.status_code == 500
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/api/v1/vocabulary", "/static/css/site.css", "/no-such-page"])
def test_hsts_only_over_https(client, path):
    assert "Strict-Transport-Security" in get(client, path, base_url="https://localhost").headers
    assert "Strict-Transport-Security" not in get(client, path).headers


def test_a_forwarded_https_header_is_not_believed_without_a_trusted_proxy(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers


def test_behind_one_trusted_proxy_its_https_and_client_address_count(make_app):
    app = make_app(PROXY_FIX_HOPS="1")  # as read from DIRECTORY_PROXY_HOPS: a string
    seen = []

    def record(sender, **extra):
        seen.append(request.remote_addr)

    request_finished.connect(record, app)  # blinker holds receivers weakly: `record` stays named
    response = app.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4, 203.0.113.9"}
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert seen == ["203.0.113.9"]  # the address the proxy saw, not one the client wrote


def test_plain_http_is_served_not_redirected_and_the_cookie_is_not_forced_secure(app, factory):
    user = factory.user("practitioner")
    browser = app.test_client()
    assert browser.get("/login").status_code == 200
    response = browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302 and not response.location.startswith("https:")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.parametrize(
    ("template", "source"),
    [
        ("", None),
        (None, None),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("https://tiles.example.org:8443/t/{z}/{x}/{y}.png?key=abc", "https://tiles.example.org:8443"),
        ("https://user:pw@tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("//tiles.example.org/{z}/{x}/{y}.png", "tiles.example.org"),
        ("/tiles/{z}/{x}/{y}.png", None),
    ],
)
def test_the_map_tile_host_is_allowed_as_an_image_source(template, source):
    assert tile_source(template) == source


@pytest.mark.parametrize(
    "template", ["https://{z}.tiles.example.org/{x}/{y}.png", "https://a.{s}.example.org/"]
)
def test_a_tile_host_no_policy_can_name_is_refused_at_start(make_app, template):
    with pytest.raises(ValueError, match="MAP_TILE_URL"):
        make_app(MAP_TILE_URL=template)


def test_the_configured_tile_host_and_no_other_is_in_the_policy(make_app, client):
    assert policy(client.get("/"))["img-src"] == "'self' data:"  # tests run with no tiles
    tiled = make_app(MAP_TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png").test_client()
    assert policy(tiled.get("/"))["img-src"] == "'self' data: https://*.tile.example.org"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", "strict-origin-when-cross-origin"),
        ("/?q=knots", "strict-origin-when-cross-origin"),
        ("/?invite=abc123", "no-referrer"),
        ("/login?reset_token=abc", "no-referrer"),
        ("/no-such-page?code=abc", "no-referrer"),
    ],
)
def test_urls_carrying_secrets_send_no_referrer(client, url, expected):
    assert client.get(url).headers["Referrer-Policy"] == expected


def test_a_practitioner_invite_link_sends_no_referrer(client, factory):
    practitioner = factory.practitioner()
    response = client.get(f"/practitioners/{practitioner.id}", query_string={"invite": "secret-code"})
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_password_reset_link_sends_no_referrer_even_through_its_redirect(app, client):
    with app.test_request_context():
        link = url_for("accounts.reset_link", token="a-reset-token")
    response = client.get(link)
    # On a redirect, the browser takes the policy for the next request from this response.
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_personal_responses_are_not_stored_and_public_ones_may_be(app, factory, client):
    user = factory.user("practitioner")
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    token = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": "correct horse battery"}
    )
    assert token.status_code == 201 and token.headers["Cache-Control"] == "no-store"
    bad = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong password here"})
    assert bad.headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=bearer).headers["Cache-Control"] == "no-store"
    browser = signed_in(app, user)
    assert browser.get("/").headers["Cache-Control"] == "no-store"
    assert browser.get("/account").headers["Cache-Control"] == "no-store"
    assert "no-store" not in get(browser, "/static/css/site.css").headers.get("Cache-Control", "")
    browser.post("/logout")
    assert "no-store" not in browser.get("/").headers.get("Cache-Control", "")


def test_evidence_keeps_its_sandbox_and_still_refuses_framing(app, factory):
    site = Site(app, factory)
    browser = signed_in(app, site.practitioner.user)
    response = get(browser, f"/account/credentials/{site.real['credential_id']}/evidence/1")
    assert response.status_code == 200
    csp = policy(response)
    assert "sandbox" in csp and csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_docs_page_starts_swagger_from_a_file_not_an_inline_script(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script>" not in html and "<script src=" in html
    assert 'src="/static/js/swagger-init.js"' in html and 'data-spec-url="/api/v1/openapi.json"' in html
    assert get(client, "/static/js/swagger-init.js").status_code == 200
