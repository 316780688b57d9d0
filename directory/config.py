"""Configuration: defaults, then the environment, then the caller's test mapping. No I/O at import."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, url_for

DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "API_TITLE": "Practitioner directory",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served by the app itself so the docs page works offline.
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    # A multipart body of thousands of tiny parts costs parsing time out of all proportion to its size.
    "MAX_FORM_PARTS": 200,
    # Per text part: the longest text a form takes (5000 characters, up to 20 kB of UTF-8) fits
    # five times over; keep it above werkzeug's 64 kB parse chunk, or file uploads are refused too.
    "MAX_FORM_MEMORY_SIZE": 100 * 1024,
    # Evidence kept per practitioner over all credentials and versions, so one account cannot fill the disk.
    "EVIDENCE_QUOTA_BYTES": 50 * 1024 * 1024,
    # Versions one credential may collect through reject-and-resubmit rounds.
    "EVIDENCE_MAX_VERSIONS": 20,
    # Claims one practitioner may have waiting for a decision (pending or contested) at once.
    "MAX_UNDECIDED_CLAIMS": 20,
    # A roster applied through a page or the API changes at most this many credentials in the request;
    # a larger one is for `flask directory import-roster` (the batch path takes 25,000 in seconds there).
    "ROSTER_REQUEST_MAX_CHANGES": 5000,
    # `development` (make run, the tests) or `production` (gunicorn.conf.py sets it), which requires
    # SITE_URL: every absolute link (mails, signed records, checkpoints) names the site from
    # configuration, never from a request, and requests for any other Host are refused.
    "DIRECTORY_ENV": "development",
    "SITE_URL": None,
    "DEVELOPMENT_SITE_URL": "http://127.0.0.1:5000",
    # Absolute and idle ends of API tokens and signed-in browsers (accounts/grants.py).
    "API_TOKEN_TTL_HOURS": 24 * 30,
    "API_TOKEN_IDLE_HOURS": 24 * 7,
    "WEB_SESSION_TTL_HOURS": 12,
    "WEB_SESSION_IDLE_MINUTES": 60,
    # Verifying or revoking a credential needs the password and second factor proved this recently.
    "ADMIN_FRESH_MINUTES": 15,
    "TOTP_ISSUER": "Practitioner directory",
    "PASSWORD_RESET_TTL_MINUTES": 60,  # nosec B105: a setting named after passwords, not one
    # Reset mails per account per hour, so that nobody can flood someone's inbox through the form.
    "PASSWORD_RESETS_PER_HOUR": 3,  # nosec B105: a setting named after passwords, not one
    "RATELIMIT_PASSWORD_RESET": "10 per hour",  # nosec B105: a rate, not a password
    # No mail server configured: messages are written as .eml files under DATA_DIR/mail instead.
    "MAIL_SERVER": None,
    "MAIL_DEFAULT_SENDER": "directory@localhost",
    # Password guesses (accounts/throttle.py): within the window, each count allows this many failures,
    # then each further one doubles the wait, up to THROTTLE_MAX_DELAY_SECONDS. Per account and address;
    # per address over all accounts (spraying); per account over all addresses (guessing from many).
    "THROTTLE_WINDOW_SECONDS": 15 * 60,
    "THROTTLE_FREE_PAIR": 3,
    "THROTTLE_FREE_ADDRESS": 20,
    "THROTTLE_FREE_ACCOUNT": 20,
    # A browser that signed in before (accounts/devices.py) is held back only by its own failures.
    "THROTTLE_FREE_DEVICE": 5,
    "THROTTLE_MAX_DELAY_SECONDS": 15 * 60,
    "DEVICE_COOKIE_DAYS": 180,
    # Wrong authenticator or recovery codes per account within the window before codes are refused.
    "CODE_MAX_FAILURES": 5,
    "RECOVERY_CODE_COUNT": 10,
    # The confirmation link mailed at registration, and how many resends an account may ask an hour.
    "EMAIL_CONFIRMATION_TTL_HOURS": 72,
    "EMAIL_CONFIRMATIONS_PER_HOUR": 3,
    # Review invites per practitioner: unused ones at once, and made in 30 days.
    "INVITES_OPEN_MAX": 20,
    "INVITES_PER_MONTH": 50,
    # Host names besides the one of DIRECTORY_SITE_URL that a production node answers (comma-separated
    # in DIRECTORY_EXTRA_HOSTS), for a balancer's health checks that name the node itself.
    "EXTRA_HOSTS": "",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Per client address, on top of the per-account throttling: slows account farming and spraying.
    "RATELIMIT_REGISTER": "20 per hour",
    "RATELIMIT_SIGN_IN": "30 per minute",
    # Every page and call that checks an authenticator or recovery code, per address.
    "RATELIMIT_CODES": "20 per minute",
    "RATELIMIT_CONFIRM_EMAIL": "30 per hour",
    "RATELIMIT_HEADERS_ENABLED": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    # Offline gazetteer always; an online geocoder only when named here ("nominatim").
    "GEOCODER_ONLINE": None,
    "GEOCODER_USER_AGENT": "practitioner-directory",
    "GEOCODER_TIMEOUT_SECONDS": 5,
    "GEOCODER_MIN_DELAY_SECONDS": 1.0,
    # Argon2id at the OWASP minimum (19 MiB, t=2, p=1); tests lower it for speed.
    "PASSWORD_HASH": {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1},
    "ACCEPTING_LAPSE_DAYS": 30,
    # Abuse limits per account, counted in the database so that every worker agrees.
    "REVIEWS_PER_HOUR": 5,
    "FLAGS_PER_HOUR": 20,
    # Map tiles for the search page; empty = markers without a background map (offline use, tests).
    "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "MAP_TILE_ATTRIBUTION": "© OpenStreetMap contributors",
    # Processes a full reindex of at least SEARCH_PARALLEL_BUILD_FROM practitioners is spread over, each
    # reading and writing its own share (search/index/parallel.py); smaller ones are built in-process.
    "SEARCH_INDEX_PROCS": min(2, os.cpu_count() or 1),
    "SEARCH_PARALLEL_BUILD_FROM": 20_000,
    # How long a search waits for a missing index to be rebuilt before answering from the database.
    "SEARCH_REBUILD_WAIT_SECONDS": 3.0,
    # How long a search waits for the spelling tables (built in the background after a segment
    # appears) before answering without a "did you mean" suggestion.
    "SEARCH_SPELLING_WAIT_SECONDS": 0.02,
    # An API walk (search?walk=true) holds its index generation this long after it starts; a walk
    # starting within REUSE seconds of the last pinned generation shares it (memory: walks.py).
    "SEARCH_CURSOR_SECONDS": 300,
    "SEARCH_CURSOR_REUSE_SECONDS": 60,
    # Proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none, serve directly).
    "PROXY_FIX_HOPS": 0,
    # /readyz answers 503 while the oldest outbox row this node's index has not applied is older than this.
    "READY_MAX_LAG_SECONDS": 30,
}

ENV_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "DIRECTORY_DATA_DIR": "DATA_DIR",
    "SECRET_KEY": "SECRET_KEY",  # nosec B105: names of settings, not their values
    "DIRECTORY_GEOCODER": "GEOCODER_ONLINE",
    "DIRECTORY_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "DIRECTORY_MAP_TILE_URL": "MAP_TILE_URL",
    "DIRECTORY_SITE_URL": "SITE_URL",
    "DIRECTORY_ENV": "DIRECTORY_ENV",
    "DIRECTORY_MAIL_SERVER": "MAIL_SERVER",
    "DIRECTORY_MAIL_PORT": "MAIL_PORT",
    "DIRECTORY_MAIL_USERNAME": "MAIL_USERNAME",
    "DIRECTORY_MAIL_PASSWORD": "MAIL_PASSWORD",  # nosec B105: names of settings, not their values
    "DIRECTORY_MAIL_USE_TLS": "MAIL_USE_TLS",
    "DIRECTORY_MAIL_SENDER": "MAIL_DEFAULT_SENDER",
    "DIRECTORY_PROXY_HOPS": "PROXY_FIX_HOPS",
    "DIRECTORY_READY_MAX_LAG_SECONDS": "READY_MAX_LAG_SECONDS",
    "DIRECTORY_EXTRA_HOSTS": "EXTRA_HOSTS",
}


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    for env, key in ENV_KEYS.items():
        if os.environ.get(env):
            app.config[key] = os.environ[env]
    if test_config:
        app.config.from_mapping(test_config)

    data_dir = Path(app.config.get("DATA_DIR") or app.instance_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = str(data_dir)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{Path(app.instance_path) / 'directory.db'}")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(data_dir / "secret_key")
    _check_environment(app)


ENVIRONMENTS = ("development", "production")


def _check_environment(app: Flask) -> None:
    env = app.config["DIRECTORY_ENV"]
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"DIRECTORY_ENV is {env!r}; it must be development or production.")
    if env == "production" and not app.config.get("SITE_URL"):
        raise RuntimeError(
            "DIRECTORY_ENV=production needs DIRECTORY_SITE_URL, the site's public address "
            "(https://directory.example): signed records and checkpoints name it."
        )
    if app.config.get("SITE_URL"):
        app.config["SITE_URL"] = app.config["SITE_URL"].rstrip("/")
    if env == "production":
        # Flask's trusted hosts: a request naming any other Host is refused with a 400 before any view
        # runs, so nothing the app writes can be made to point elsewhere.
        extra = [h.strip() for h in str(app.config.get("EXTRA_HOSTS") or "").split(",") if h.strip()]
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["SITE_URL"]).hostname, *extra]


def site_url(app: Flask) -> str:
    """The site's public address, from configuration alone (never the request's Host)."""
    return (app.config.get("SITE_URL") or app.config["DEVELOPMENT_SITE_URL"]).rstrip("/")


def _persistent_secret(path: Path) -> str:
    """A random key made once and kept in the data dir, so sessions survive restarts."""
    if not path.exists():
        # Written whole under a private name, then linked into place: a worker starting at the
        # same moment either wins the link or reads the winner's key, never a half-written file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for a mail or a signed document: the configured site plus the route's path, so
    that no Host header a client sends can point a link elsewhere."""
    if has_request_context():
        return site_url(current_app) + url_for(endpoint, **values)
    # Outside a request (a command, a test's factory): the route's path from the URL map alone.
    return site_url(current_app) + current_app.url_map.bind("localhost").build(endpoint, values)
