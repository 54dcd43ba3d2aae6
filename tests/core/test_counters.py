"""Shared counters count every hit exactly once, across threads and processes, in both stores."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from appcontrol.core.counters import DatabaseCounters, RedisCounters
from tests.redis_service import require_redis


@pytest.fixture(params=["database", "redis"])
def store(request):
    if request.param == "redis":
        return RedisCounters(require_redis())
    request.getfixturevalue("db")
    return DatabaseCounters()


def test_hits_count_within_a_window_that_starts_at_the_first_hit(store):
    key = f"test:{uuid.uuid4().hex}"
    assert store.peek(key, now=1000.0) is None
    first = store.hit(key, 60, now=1000.0)
    assert (first.count, first.expires_at) == (1, 1060.0)
    second = store.hit(key, 60, now=1030.5)
    assert (second.count, second.expires_at, second.last_at) == (2, 1060.0, 1030.5)
    assert second.resets_in(1030.5) == 30
    peeked = store.peek(key, now=1031.0)
    assert (peeked.count, peeked.expires_at, peeked.last_at) == (2, 1060.0, 1030.5)
    # The window has ended: the next hit starts a new one.
    assert store.peek(key, now=1060.0) is None
    third = store.hit(key, 60, now=1060.0)
    assert (third.count, third.expires_at) == (1, 1120.0)
    store.clear(key)
    assert store.peek(key, now=1061.0) is None


def test_database_counters_expire_ended_windows(db):
    store = DatabaseCounters()
    store.hit("test:old", 10, now=100.0)
    store.hit("test:current", 10, now=105.0)
    assert store.expire(now=111.0) == 1
    assert store.peek("test:current", now=111.0).count == 1


@pytest.mark.parametrize("kind", ["database", "redis"])
def test_concurrent_hits_are_never_lost(kind, request):
    """Eight threads, each with its own connection (committing on its own, outside the test's transaction),
    hitting one key at once: the count is the sum."""
    if kind == "redis":
        store = RedisCounters(require_redis())
    else:
        request.getfixturevalue("db")
        if connection.vendor == "sqlite":
            # The test database is SQLite in memory, shared between connections through a cache whose
            # table locks fail at once instead of waiting; tests/e2e/test_http_conventions.py counts from
            # several server processes into a real SQLite file.
            pytest.skip("SQLite's in-memory test database cannot be written by concurrent connections")
        store = DatabaseCounters()
    key = f"test:{uuid.uuid4().hex}"
    start = threading.Barrier(8)

    def in_own_connection(work):
        try:
            return work()
        finally:
            connections.close_all()

    def hit_many():
        start.wait()
        for _ in range(25):
            store.hit(key, 3600)

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(in_own_connection, hit_many) for _ in range(8)]:
            future.result()
        counted = pool.submit(in_own_connection, lambda: store.peek(key).count).result()
        pool.submit(in_own_connection, lambda: store.clear(key)).result()
    assert counted == 200
