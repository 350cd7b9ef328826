"""What the catalog works with once started: the kernel's read cache and how long an entry lives there.

The catalog has no setting of its own: the cache and its lifetime (``ECOMMERCE_CACHE_TTL``) are the
kernel's, handed over by the module's setup and kept here for ``caching``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.cache import Cache
from ecommerce.kernel.module import ModuleContext, Runtime


@dataclass(frozen=True)
class Reads:
    cache: Cache
    ttl: int


runtime: Runtime[Reads] = Runtime("catalog")


def setup(context: ModuleContext[Any]) -> None:
    """The module's start: keep the kernel's read cache for product pages and the category tree."""
    runtime.start(Reads(context.cache, context.cache_ttl))
