"""The Redis the tests use: `APPCONTROL_TEST_REDIS_URL` (default: the local server's database 15).

In CI a missing Redis fails the run; elsewhere the tests that need one are skipped.
"""

import os

import pytest

REDIS_URL = os.environ.get("APPCONTROL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL
