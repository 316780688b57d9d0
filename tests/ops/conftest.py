import pytest

from tests.ops.nodes import Node, start_all, stop_all


@pytest.fixture
def cluster(app, tmp_path):
    """Two nodes (gunicorn, two workers, and an indexer each) on the test database, each with its own
    data dir. PostgreSQL only: that is what several machines share in production."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("several nodes share a PostgreSQL database (set DIRECTORY_TEST_DATABASE_URL)")
    nodes = [Node(name, url, tmp_path / name) for name in ("a", "b")]
    try:
        yield start_all(nodes)
    finally:
        stop_all(nodes)
