"""A small cache with one interface and two stores (the seed's "regularly accessed data in a cache").

- in-process TTL cache (default): fast, but each worker has its own copy, so after a write another
  worker may serve the old value until its TTL runs out — the staleness bound is the TTL;
- Redis (``ECOMMERCE_REDIS_URL``): shared by every worker and instance, so deleting a key on write is
  seen by the next read anywhere.

Values are JSON-serialisable data (dicts, lists, numbers, strings), never model objects.
Synchronous on purpose: it is called from use cases, which run in the thread pool.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

from cachetools import TTLCache

log = logging.getLogger("ecommerce.cache")


class Cache(Protocol):
    def get(self, key: str) -> Any | None: ...
    def set(self, key: str, value: Any, ttl: int) -> None: ...
    def delete(self, *keys: str) -> None: ...
    def clear(self) -> None: ...


class MemoryCache:
    def __init__(self, maxsize: int = 10_000, ttl: int = 60) -> None:
        self._data: TTLCache[str, bytes] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        raw = self.get_encoded(key)
        return None if raw is None else json.loads(raw)

    def get_encoded(self, key: str) -> bytes | None:
        """The cached value as the JSON bytes it is stored as: an HTTP handler can send them as they are,
        without leaving the event loop (a dict lookup under a lock held for nanoseconds)."""
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: Any, ttl: int) -> None:
        # One TTL for the whole store (cachetools); callers' ttl is honoured by Redis only.
        raw = json.dumps(value, separators=(",", ":")).encode()  # a copy: callers cannot mutate what is cached
        with self._lock:
            self._data[key] = raw

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    """Shared cache. If Redis is down, reads miss and writes are skipped (logged): the database still
    answers, only slower. A failed *delete* is logged as an error — that key may be stale until its TTL."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self._errors = (redis.RedisError,)
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = f"{namespace}:cache:"

    def get(self, key: str) -> Any | None:
        try:
            raw = self._redis.get(self._prefix + key)
        except self._errors as exc:
            log.warning("cache unavailable", extra={"error": repr(exc)})
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int) -> None:
        try:
            self._redis.set(self._prefix + key, json.dumps(value, separators=(",", ":")), ex=ttl)
        except self._errors as exc:
            log.warning("cache unavailable", extra={"error": repr(exc)})

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            self._redis.delete(*(self._prefix + key for key in keys))
        except self._errors as exc:
            log.error("cache invalidation failed; keys stale until their TTL", extra={"keys": keys, "error": repr(exc)})

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def clear(self) -> None:
        try:
            for key in self._redis.scan_iter(self._prefix + "*"):
                self._redis.delete(key)
        except self._errors as exc:
            log.error("cache clear failed; entries stale until their TTL", extra={"error": repr(exc)})


class NoCache:
    """``ECOMMERCE_CACHE_TTL=0``: every read goes to the database (debugging staleness, measuring misses)."""

    def get(self, key: str) -> Any | None:
        return None

    def set(self, key: str, value: Any, ttl: int) -> None:
        pass

    def delete(self, *keys: str) -> None:
        pass

    def clear(self) -> None:
        pass


def build_cache(redis_url: str | None, namespace: str, ttl: int) -> Cache:
    if ttl == 0:
        return NoCache()
    return RedisCache(redis_url, namespace) if redis_url else MemoryCache(ttl=ttl)
