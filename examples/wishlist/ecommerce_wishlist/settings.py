"""The wishlist's settings: how many products one list may hold. Read at start-up by the kernel from
``ECOMMERCE_WISHLIST_MAX_ITEMS`` or the config file's ``[wishlist]`` table (``max_items = 50``), validated
with the kernel's validators, and handed to the module's setup, which keeps them here."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import number, setting


@dataclass(frozen=True)
class WishlistSettings:
    max_items: int = setting(100, number(int, 1, 10_000), doc="products one user's wishlist may hold")


runtime: Runtime[WishlistSettings] = Runtime("wishlist")


def setup(context: ModuleContext[WishlistSettings]) -> None:
    """The module's start: keep its settings for the use cases."""
    runtime.start(context.settings)
