"""The site's pages work under its Content-Security-Policy: no violation on the search page with its
map (tiles from a second loopback origin, as a tile server would be), a profile, the sign-in page and
the API docs, whose Swagger UI must still render the operations."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import g, request_started
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TILE = (
    Path(__file__).resolve().parents[2] / "directory/static/vendor/leaflet/images/marker-icon.png"
).read_bytes()
# Seen by every page before its own scripts run; CSP reports a blocked load or eval here even when
# the page's code swallows the error, so nothing a library catches can hide a violation.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def tile_server():
    """A stand-in tile server on its own loopback port: a different origin from the site."""
    referers = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):
            referers.append(self.headers.get("Referer"))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(TILE)))
            self.end_headers()
            self.wfile.write(TILE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.referers = referers
    server.origin = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def app(make_app, tile_server):
    """The site with map tiles from the stand-in server (the policy is built from MAP_TILE_URL at start)."""
    app = make_app(MAP_TILE_URL=tile_server.origin + "/{z}/{x}/{y}.png")

    def forget_identity(sender, **extra):  # as the suite's own `app` fixture does, for the same reason
        g.pop("_login_user", None)

    request_started.connect(forget_identity, app)
    with app.app_context():
        yield app
    request_started.disconnect(forget_identity, app)


@pytest.fixture
def watched(page):
    """The page, with every console message, uncaught error and CSP violation collected."""
    page.console_lines, page.errors = [], []
    page.on("console", lambda msg: page.console_lines.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.add_init_script(WATCH_VIOLATIONS)
    return page


def assert_no_violation(page, where: str) -> None:
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations || []")
    about_csp = [line for line in page.console_lines if "Content Security Policy" in line or "CSP" in line]
    assert not violations and not about_csp, f"{where}: {violations} {about_csp}"
    assert not page.errors, f"{where}: {page.errors}"


def test_the_pages_work_under_the_content_security_policy(
    live_server, watched, factory, tile_server, artifacts
):
    page = watched
    dana = factory.practitioner(display_name="Dana Reyes", approach="I release knots in stiff shoulders.")
    factory.location(dana, lat=30.2713, lon=-97.7426, city="Austin", region="TX")

    # The search page with results, the map, its markers and its tiles from the other origin.
    page.goto(f"{live_server}/?q=knots&near=78701")
    expect(page.locator("ol.results li.result")).to_have_count(1)
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_visible()
    assert_no_violation(page, "search page")
    page.screenshot(path=str(artifacts / "csp-search.png"), full_page=True)
    # Tiles learn which site asked (some tile servers require it), never what was searched.
    assert tile_server.referers and set(tile_server.referers) == {live_server + "/"}

    # A profile page.
    page.get_by_role("link", name="Dana Reyes").click()
    expect(page.get_by_role("heading", name="Dana Reyes")).to_be_visible()
    assert_no_violation(page, "profile page")

    # The sign-in page, and signing in through it (form-action and the redirect that follows).
    page.goto(f"{live_server}/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_violation(page, "sign-in page")
    page.get_by_label("Email").fill(dana.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_violation(page, "signed in")


def test_the_api_docs_render_their_operations_under_the_policy(live_server, watched, artifacts):
    page = watched
    page.goto(f"{live_server}/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/v1/search").first).to_be_visible()
    # Opening one shows its parameters: Swagger UI's own scripts and styles run, not just its markup.
    page.locator(".opblock-summary-path").filter(has_text="/api/v1/vocabulary").first.click()
    opened = page.locator(".opblock.is-open").first
    expect(opened.locator(".responses-wrapper")).to_be_visible()
    # Trying it calls the API from the page: connect-src 'self' must let it through.
    opened.get_by_role("button", name="Try it out").click()
    opened.get_by_role("button", name="Execute").click()
    expect(opened.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert_no_violation(page, "API docs")
    page.screenshot(path=str(artifacts / "csp-docs.png"))
