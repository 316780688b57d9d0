import io

import pytest
import sqlalchemy as sa

from directory.extensions import db
from tests.factories import PNG, submission


@pytest.fixture
def practitioner(factory):
    """A practitioner with a profile and a place, and API headers for them."""
    p = factory.practitioner(display_name="Casey Lin", approach="Trigger point work.")
    factory.location(p, lat=34.05, lon=-118.24, city="Los Angeles", region="CA")
    p.headers = factory.headers(p.user)
    return p


@pytest.fixture
def admin_headers(factory):
    return factory.headers(factory.user("admin"))


@pytest.fixture
def submit(client):
    def _submit(headers, file_bytes=PNG, filename="licence.png", **fields):
        data = submission(**fields)
        if file_bytes is not None:
            data["evidence"] = (io.BytesIO(file_bytes), filename)
        return client.post(
            "/api/v1/me/credentials", data=data, headers=headers, content_type="multipart/form-data"
        )

    return _submit


# -- for the roster tests (modules that define their own `admin` keep theirs) --


@pytest.fixture
def admin(factory):
    user = factory.user("admin")
    user.headers = factory.headers(user)
    return user


@pytest.fixture
def holder(factory, submit):
    """A practitioner named `name` with a pending credential `number` (camtc unless told)."""

    def make(name: str, number: str, **fields):
        p = factory.practitioner(display_name=name)
        p.headers = factory.headers(p.user)
        created = submit(p.headers, number=number, **fields)
        assert created.status_code == 201, created.get_json()
        p.credential_id = created.get_json()["id"]
        return p

    return make


@pytest.fixture
def fast_files(app, monkeypatch):
    """Nothing here needs to survive a power cut: fsync is most of what a commit or an upload costs."""
    import directory.credentials.evidence as evidence

    monkeypatch.setattr(evidence.os, "fsync", lambda fd: None)
    if db.engine.dialect.name == "sqlite":
        sa.event.listen(db.engine, "connect", _no_sync)
        db.session.remove()
        db.engine.dispose()  # the pooled connections reopen with the pragma
        yield
        sa.event.remove(db.engine, "connect", _no_sync)
    else:
        yield


def _no_sync(dbapi_connection, record) -> None:
    dbapi_connection.execute("PRAGMA synchronous = OFF")
