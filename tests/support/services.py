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


RABBITMQ_URL = os.environ.get("ECOMMERCE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def rabbitmq_error() -> str | None:
    """Why RabbitMQ cannot be used, or None when it answers."""
    import asyncio

    import aio_pika

    async def probe() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to connect means "not usable"; the message says which
        return f"RabbitMQ not reachable at {RABBITMQ_URL}: {exc!r}"
    return None


def require_rabbitmq() -> str:
    """The RabbitMQ URL, or skip (fail when ECOMMERCE_REQUIRE_RABBITMQ=1, as in CI)."""
    error = rabbitmq_error()
    if error is not None:
        if os.environ.get("ECOMMERCE_REQUIRE_RABBITMQ", "") in ("1", "true", "yes"):
            pytest.fail(f"ECOMMERCE_REQUIRE_RABBITMQ=1 but {error}", pytrace=False)
        pytest.skip(error)
    return RABBITMQ_URL


def delete_broker_namespace(namespace: str, modules: list[str], max_attempts: int, retry_base: float) -> None:
    """Delete every queue and the exchange a test's namespace made (deleting a missing one is a no-op)."""
    import asyncio

    import aio_pika

    from ecommerce.kernel.events.rabbitmq import Topology
    from ecommerce.kernel.events.rabbitmq.consumer import retry_delay_ms

    topology = Topology(namespace, {module: [] for module in modules})

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        try:
            channel = await connection.channel()
            await topology.delete(channel, {retry_delay_ms(a, retry_base) for a in range(1, max_attempts + 1)})
        finally:
            await connection.close()

    asyncio.run(delete())
