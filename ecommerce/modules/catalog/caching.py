"""What the catalog caches, under which keys, and when it forgets.

Product detail and the category tree are the hottest reads of the shop. Writes delete the keys right
after they commit (so the writing worker — and every worker, with Redis — sees the change on its next
read); the module also listens to its own events to forget keys when the change came from elsewhere
(the CSV import, another instance) — each event is handled by one process, so with Redis that reaches
everyone, while with the in-process cache it reaches only the process that relayed it. With the
in-process cache and several workers the staleness bound is therefore the TTL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecommerce.kernel.cache import MemoryCache
from ecommerce.modules.catalog.settings import runtime

TREE_KEY = "catalog:category-tree"


def product_key(product_id: int) -> str:
    return f"catalog:product:{product_id}"


def peek_encoded(key: str) -> bytes | None:
    """The cached JSON bytes of ``key`` when the cache lives in this process (never blocks: safe on the
    event loop); ``None`` on a miss or with a networked cache (Redis), where the caller takes the slow path."""
    cache = runtime.get().cache
    return cache.get_encoded(key) if isinstance(cache, MemoryCache) else None


def get_or_load(key: str, load: Callable[[], Any]) -> Any:
    reads = runtime.get()
    found = reads.cache.get(key)
    if found is None:
        found = load()
        if found is not None:
            reads.cache.set(key, found, reads.ttl)
    return found


def forget_products(*product_ids: int) -> None:
    runtime.get().cache.delete(*(product_key(pid) for pid in product_ids))


def forget_tree() -> None:
    runtime.get().cache.delete(TREE_KEY)


def forget_everything() -> None:
    """Renaming or deleting a brand or category changes many product pages: drop the whole cache
    (rare admin actions; the next reads refill it)."""
    runtime.get().cache.clear()
