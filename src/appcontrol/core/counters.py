"""Counters shared by every server process and host: hits of a key within a window that starts at its
first hit. Rate limits and login throttling count here.

Redis when `APPCONTROL_REDIS_URL` is set (one round trip a hit, no database write), else the database
(one upsert a hit; the embedded default needs nothing else). Both count atomically: concurrent hits from
many processes are never lost.
"""

import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection

from .models import Counter


@dataclass(frozen=True)
class Window:
    count: int  # hits so far in this window, this one included
    expires_at: float  # when the window ends (seconds since the epoch)
    last_at: float  # the latest hit

    def resets_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now + 0.999))


class DatabaseCounters:
    def hit(self, key: str, window_seconds: float, now: float | None = None) -> Window:
        now = time.time() if now is None else now
        table = connection.ops.quote_name(Counter._meta.db_table)
        # One statement, so the read and the increment cannot interleave with another process's.
        sql = f"""
            INSERT INTO {table} (key, count, expires_at, last_at) VALUES (%s, 1, %s, %s)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN {table}.expires_at <= %s THEN 1 ELSE {table}.count + 1 END,
                expires_at = CASE WHEN {table}.expires_at <= %s THEN %s ELSE {table}.expires_at END,
                last_at = %s
            RETURNING count, expires_at
        """  # noqa: S608 - the table name is the model's own
        expires = now + window_seconds
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, expires, now, now, now, expires, now])
            count, expires_at = cursor.fetchone()
        return Window(count, expires_at, now)

    def peek(self, key: str, now: float | None = None) -> Window | None:
        now = time.time() if now is None else now
        row = Counter.objects.filter(key=key, expires_at__gt=now).values_list("count", "expires_at", "last_at").first()
        return Window(*row) if row else None

    def clear(self, key: str) -> None:
        Counter.objects.filter(key=key).delete()

    def expire(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        deleted, _ = Counter.objects.filter(expires_at__lte=now).delete()
        return deleted


# KEYS[1]: the counter; ARGV: now, window. Floats travel as strings: Redis truncates Lua numbers it returns.
_REDIS_HIT = """
local now = tonumber(ARGV[1])
local expires = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')
if expires <= now then
    redis.call('DEL', KEYS[1])
    expires = now + tonumber(ARGV[2])
    redis.call('HSET', KEYS[1], 'expires', ARGV[1] + ARGV[2])
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(expires - now) + 1)
return {count, redis.call('HGET', KEYS[1], 'expires')}
"""


class RedisCounters:
    prefix = "appcontrol:counter:"

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._hit = self.redis.register_script(_REDIS_HIT)

    def hit(self, key: str, window_seconds: float, now: float | None = None) -> Window:
        now = time.time() if now is None else now
        count, expires_at = self._hit(keys=[self.prefix + key], args=[repr(now), repr(window_seconds)])
        return Window(int(count), float(expires_at), now)

    def peek(self, key: str, now: float | None = None) -> Window | None:
        now = time.time() if now is None else now
        fields = self.redis.hgetall(self.prefix + key)
        if not fields or float(fields[b"expires"]) <= now:
            return None
        return Window(int(fields[b"count"]), float(fields[b"expires"]), float(fields[b"last"]))

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def expire(self, now: float | None = None) -> int:
        return 0  # Redis expires its keys itself


@cache
def _redis_counters(url: str) -> RedisCounters:
    return RedisCounters(url)


def counters() -> DatabaseCounters | RedisCounters:
    """The configured store (read per call: tests switch it with their settings)."""
    if settings.APPCONTROL_REDIS_URL:
        return _redis_counters(settings.APPCONTROL_REDIS_URL)
    return DatabaseCounters()


def counters_expire() -> int:
    """Periodic duty: drop the database's counters whose window has ended."""
    return DatabaseCounters().expire()
