import pytest

from directory import timeutil


@pytest.fixture
def frozen(clock, monkeypatch):
    """The clock fixture held still (it moves only when the test advances it), for rules whose edge is
    an exact instant."""
    start = clock.now()
    monkeypatch.setattr(timeutil, "source", lambda: start + clock.offset)
    return clock
