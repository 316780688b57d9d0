import logging

import pytest

from tests.contract import fuzzing
from tests.contract.world import build_world


@pytest.fixture
def world(app):
    """Real objects for the fuzzing to find, and tokens for each role (world.py)."""
    return build_world(app)


@pytest.fixture
def schema(app):
    """The served document as schemathesis sees it, bound to the app (fuzzing.load_schema)."""
    return fuzzing.load_schema(app)


@pytest.fixture(autouse=True)
def quiet_security_log():
    # Thousands of fuzzed 401s and 403s would each write a security log line; the log has its own tests.
    logger = logging.getLogger("directory.security")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
