"""A kept PostgreSQL connection is pinged before a request uses it, unless its last request ended without an
error moments ago (the ping is a round trip on every request, for what is rare: a database restarted between
two requests)."""

import pytest
from django.db import connection

from appcontrol.core.backends.postgresql import base

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the ping is PostgreSQL's")


@pytest.fixture
def wrapper(db, monkeypatch):
    """A connection of its own (outside the test's transaction), with a clock and a counted ping."""
    own = connection.copy()
    own.settings_dict["CONN_HEALTH_CHECKS"] = True
    # Kept however far the clock below moves: an hour on it must not make the connection obsolete (its
    # CONN_MAX_AGE is counted from the machine's real clock, which may be anywhere near 1000).
    own.settings_dict["CONN_MAX_AGE"] = None
    own.ensure_connection()
    clock = [1000.0]
    monkeypatch.setattr(base.time, "monotonic", lambda: clock[0])
    own.pings = []
    real_ping = own.is_usable
    monkeypatch.setattr(own, "is_usable", lambda: own.pings.append(clock[0]) or real_ping())
    own.clock = clock
    yield own
    own.close()


def _request(wrapper, *, fails=False):
    """What Django does around a request that queries: checks as it starts and ends, a ping at first use."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    wrapper.errors_occurred = fails
    wrapper.close_if_unusable_or_obsolete()


def test_a_connection_that_worked_moments_ago_is_not_pinged(wrapper):
    _request(wrapper)
    pinged = len(wrapper.pings)
    wrapper.clock[0] += 0.2
    _request(wrapper)
    assert len(wrapper.pings) == pinged


def test_a_connection_idle_longer_or_after_an_error_is_pinged(wrapper):
    _request(wrapper)
    wrapper.clock[0] += 1
    pinged = len(wrapper.pings)
    _request(wrapper)
    assert len(wrapper.pings) == pinged + 1
    pinged = len(wrapper.pings)
    wrapper.clock[0] += 0.1
    _request(wrapper, fails=True)
    assert len(wrapper.pings) == pinged + 1  # not at its start (trusted), but at its end: Django's check after an error


def test_a_connection_broken_meanwhile_is_replaced_after_the_window(wrapper):
    _request(wrapper)
    old = wrapper.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [old.info.backend_pid])
    wrapper.clock[0] += 1
    _request(wrapper)
    assert wrapper.connection is not old


def test_a_request_after_a_failed_one_is_pinged_once_the_window_has_passed(wrapper):
    _request(wrapper)
    _request(wrapper, fails=True)  # Django pings at its end, and the connection still works
    wrapper.clock[0] += 3600
    pinged = len(wrapper.pings)
    _request(wrapper)
    assert len(wrapper.pings) == pinged + 1
