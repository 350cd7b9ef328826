"""External services the suite talks to for real (Redis), with the same skip/fail rule as PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

REDIS_URL = os.environ.get("ECOMMERCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    """The Redis URL, or skip (fail when ECOMMERCE_REQUIRE_REDIS=1, as in CI)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("ECOMMERCE_REQUIRE_REDIS", "") in ("1", "true", "yes"):
            pytest.fail(f"ECOMMERCE_REQUIRE_REDIS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


@contextmanager
def isolated_namespace() -> Iterator[str]:
    """A Redis key prefix unique to one test (``rate_limit_namespace``); its keys are deleted afterwards."""
    import redis

    namespace = f"test-{uuid.uuid4().hex}"
    try:
        yield namespace
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
