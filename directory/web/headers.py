"""Security headers on every response, errors and static files included.

flask-talisman sets them; this module only chooses the policy and adjusts three things it does
not know about this site: responses that bring their own stricter policy (evidence files), URLs that
carry secrets (no Referer at all), and personal responses (never stored by a cache).
"""

from urllib.parse import urlsplit

from flask import Flask, Response, g, request, session
from flask_talisman import DENY, Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "Content-Security-Policy"
HSTS = "Strict-Transport-Security"
# A reset token or invite code in a URL would otherwise be sent as the Referer of every
# same-origin asset the page loads, and land in access logs. Matched as parts of argument names.
SECRET_ARG_WORDS = ("token", "code", "invite", "secret")
AUTH_PREFIX = "/api/v1/auth/"
# Talisman's default (no Topics API) plus the powerful features this site never uses.
PERMISSIONS = {name: "()" for name in ("browsing-topics", "camera", "microphone", "geolocation", "payment")}


def tile_source(template: str | None) -> str | None:
    """The CSP source for a Leaflet tile URL template; None when tiles are off or same-origin."""
    if not template:
        return None
    parts = urlsplit(template)
    host = parts.netloc.rpartition("@")[2]
    if not host:
        return None  # a path on this site: 'self' covers it
    if host.startswith("{s}."):
        # Leaflet's subdomain placeholder; CSP allows a wildcard only as the leftmost label.
        host = "*." + host[len("{s}.") :]
    if "{" in host or "}" in host:
        raise ValueError(f"MAP_TILE_URL: no CSP source fits the host {host!r}; use {{s}} as its first label")
    return f"{parts.scheme}://{host}" if parts.scheme else host


def content_security_policy(app: Flask) -> dict:
    images = ["'self'", "data:"]  # data: for Leaflet's and Swagger UI's inline icons in their CSS
    tiles = tile_source(app.config.get("MAP_TILE_URL"))
    if tiles:
        images.append(tiles)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def _url_carries_secret() -> bool:
    names = [*(request.view_args or {}), *request.args]
    return any(word in name.lower() for name in names for word in SECRET_ARG_WORDS)


class SiteTalisman(Talisman):
    def _set_content_security_policy_headers(self, headers, options):
        own = headers.get(CSP)
        super()._set_content_security_policy_headers(headers, options)
        if own:
            # A response with its own policy (evidence files: sandboxed, nothing but the image) is
            # stricter than the site's; keep it, and still refuse framing.
            headers[CSP] = own if "frame-ancestors" in own else f"{own}; frame-ancestors 'none'"

    def _set_hsts_headers(self, headers):
        super()._set_hsts_headers(headers)
        # Talisman also believes a raw X-Forwarded-Proto from anyone; only ProxyFix, told how many
        # proxies to trust, may turn that header into request.is_secure.
        if not request.is_secure:
            headers.pop(HSTS, None)

    def _set_referrer_policy_headers(self, headers):
        super()._set_referrer_policy_headers(headers)
        if _url_carries_secret():
            headers["Referrer-Policy"] = "no-referrer"


def _is_personal() -> bool:
    if "Authorization" in request.headers or request.path.startswith(AUTH_PREFIX):
        return True
    user = g.get("_login_user")  # Flask-Login's cache: set once anything asked who is signed in
    if user is not None and user.is_authenticated:
        return True
    # Not asked during this request (or just signed out): the cookie still names a session.
    return "_user_id" in session


def _no_store_when_personal(response: Response) -> Response:
    # Static files hold nothing personal, and no-store there would re-download the map and docs
    # scripts on every page a signed-in person opens.
    if request.endpoint != "static" and _is_personal():
        response.headers["Cache-Control"] = "no-store"
    return response


def _proxy_hops(app: Flask) -> int:
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops < 0:
        raise ValueError("PROXY_FIX_HOPS must be 0 or more")
    return hops


def install(app: Flask) -> None:
    hops = _proxy_hops(app)
    if hops:
        # Only the client address and the scheme: trusting X-Forwarded-Host would let a client choose
        # the host of external links the site writes (password-reset mail among them).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # One instance per app: Talisman keeps its options on itself, and tests build many apps.
    app.extensions["talisman"] = SiteTalisman(
        app,
        # Talisman's defaults would redirect every http request and mark the session cookie Secure
        # for all of them; the sign-in code makes it Secure per request, when served over https.
        force_https=False,
        session_cookie_secure=False,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        frame_options=DENY,
        content_security_policy=content_security_policy(app),
        # Not same-origin site-wide: tile servers ask for a Referer naming the site (origin only here).
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS,
        strict_transport_security=True,
    )
    app.after_request(_no_store_when_personal)
