"""/healthz and /readyz: what a load balancer asks, and what it is told."""

import shutil
import time
from datetime import timedelta

import pytest

from directory import create_app
from directory.extensions import db
from directory.practitioners.models import Practitioner
from directory.search.models import SearchOutbox
from directory.search.node import node
from directory.timeutil import now_utc

SECRET_DB_PASSWORD = "hunter2-not-for-logs"


def test_healthz_is_alive_without_touching_the_database(client, statements):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert statements == []


def test_readyz_is_ready_with_a_built_index_and_no_lag(client, factory):
    factory.practitioner(display_name="Ready")
    client.get("/api/v1/search", query_string={"q": "ready"})  # builds the index
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "status": "ready",
        "database": "ok",
        "index": "ok",
        "lag": {"pending": 0, "oldest_seconds": None},
        "max_lag_seconds": 30.0,
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_without_an_index_is_503_and_starts_the_rebuild(app, client, factory):
    factory.practitioner(display_name="Waiting")
    assert node().store.current() is None
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["index"] == "missing" and body["database"] == "ok"
    deadline = time.monotonic() + 20
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").get_json()
        time.sleep(0.05)
    assert client.get("/api/v1/search", query_string={"q": "waiting"}).get_json()["total"] == 1


def test_readyz_reports_the_lag_and_turns_503_beyond_the_threshold(make_app):
    app = make_app(READY_MAX_LAG_SECONDS=60)
    client = app.test_client()
    with app.app_context():
        client.get("/api/v1/search")  # an index, caught up
        # Outbox rows no request has applied yet: one fresh, one written 90 s ago.
        db.session.add_all(
            [
                SearchOutbox(practitioner_id=999, created_at=now_utc() - timedelta(seconds=90)),
                SearchOutbox(practitioner_id=998, created_at=now_utc()),
            ]
        )
        db.session.commit()
        response = client.get("/readyz")
        body = response.get_json()
        assert response.status_code == 503, body
        assert body["status"] == "not ready" and body["database"] == "ok" and body["index"] == "ok"
        assert body["lag"]["pending"] == 2 and 89 <= body["lag"]["oldest_seconds"] < 120
        assert body["max_lag_seconds"] == 60.0
        node().store.catch_up()
        assert client.get("/readyz").get_json()["lag"] == {"pending": 0, "oldest_seconds": None}
        db.session.remove()


def test_readyz_within_the_threshold_is_ready_and_shows_the_lag(app, client):
    client.get("/api/v1/search")
    db.session.add(SearchOutbox(practitioner_id=999, created_at=now_utc() - timedelta(seconds=5)))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    lag = response.get_json()["lag"]
    assert lag["pending"] == 1 and 4 <= lag["oldest_seconds"] < 30


def test_readyz_without_a_database_is_503_and_names_no_secret(tmp_path):
    url = f"postgresql+psycopg://directory:{SECRET_DB_PASSWORD}@127.0.0.1:1/directory"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "test",
            "MAP_TILE_URL": "",
        }
    )
    client = app.test_client()
    with app.app_context():
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive all the same
        db.engine.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["database"] == "unreachable"
    text = response.get_data(as_text=True)
    assert SECRET_DB_PASSWORD not in text and "127.0.0.1" not in text and "psycopg" not in text


def test_readyz_with_a_damaged_index_is_503_and_recovers(app, client, factory):
    factory.practitioner(display_name="Mended")
    client.get("/api/v1/search")
    folder = node().store.current()
    node()._close()
    shutil.rmtree(folder)
    folder.mkdir()  # CURRENT names a folder with no index in it
    assert client.get("/readyz").status_code == 503
    deadline = time.monotonic() + 20
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").get_json()
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_other_methods_get_the_json_error_shape(client, path):
    response = client.post(path)
    assert response.status_code == 405
    body = response.get_json()
    assert body["code"] == 405 and body["status"] == "Method Not Allowed" and body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_health_checks_are_never_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    with app.app_context():
        client.get("/api/v1/search")
        # The limit is in force for the rest of the site...
        assert [client.get("/api/v1/vocabulary").status_code for _ in range(3)][-1] == 429
        # ...and not for the probes, which a load balancer sends every few seconds.
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
        db.session.remove()


def test_health_checks_are_not_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not [p for p in paths if "healthz" in p or "readyz" in p]


def test_readyz_counts_only_rows_the_index_lacks(app, client, factory):
    practitioner = factory.practitioner(display_name="Counted")
    client.get("/api/v1/search")
    row = db.session.get(Practitioner, practitioner.id)
    row.approach = "Changed with no request to catch up after it."
    db.session.commit()
    assert client.get("/readyz").get_json()["lag"]["pending"] == 1
    client.get("/api/v1/search", query_string={"q": "changed"})  # a search catches up first
    assert client.get("/readyz").get_json()["lag"]["pending"] == 0
