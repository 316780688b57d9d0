"""Configuration: defaults, then the environment, then the caller's test mapping. No I/O at import."""

import os
import secrets
from pathlib import Path

from flask import Flask

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
    "API_TOKEN_TTL_HOURS": 24 * 30,
    "WEB_SESSION_TTL_HOURS": 24 * 14,
    "LOGIN_MAX_FAILURES": 10,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Per client address, on top of the per-account lockout: slows account farming and spraying.
    "RATELIMIT_REGISTER": "20 per hour",
    "RATELIMIT_SIGN_IN": "30 per minute",
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
    # Processes a full reindex spreads text analysis over (Whoosh's multiprocessing writer).
    "SEARCH_INDEX_PROCS": min(2, os.cpu_count() or 1),
    # How long a search waits for a missing index to be rebuilt before answering from the database.
    "SEARCH_REBUILD_WAIT_SECONDS": 3.0,
}

ENV_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "DIRECTORY_DATA_DIR": "DATA_DIR",
    "SECRET_KEY": "SECRET_KEY",
    "DIRECTORY_GEOCODER": "GEOCODER_ONLINE",
    "DIRECTORY_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "DIRECTORY_MAP_TILE_URL": "MAP_TILE_URL",
    "DIRECTORY_SITE_URL": "SITE_URL",
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
