"""The catalog's subscriptions: its own product, stock, brand and category events, so that every process
(another instance, the CSV import's) drops what its read cache holds about the changed products."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog import caching
from ecommerce.modules.catalog.events import (
    BrandChanged,
    CategoryChanged,
    ProductDeleted,
    ProductUpdated,
    StockChanged,
)


def forget(envelope: Envelope[Any]) -> None:
    """Changes made elsewhere (another instance, the CSV import) reach this process's cache too."""
    caching.forget_products(envelope.event.product_id)


def forget_all(envelope: Envelope[Any]) -> None:
    """A brand or category name shows on many product pages: every process drops its whole cache."""
    caching.forget_everything()


SUBSCRIPTIONS = [
    Subscription(ProductUpdated, forget, name="catalog.cache.product-updated"),
    Subscription(ProductDeleted, forget, name="catalog.cache.product-deleted"),
    Subscription(StockChanged, forget, name="catalog.cache.stock-changed"),
    Subscription(BrandChanged, forget_all, name="catalog.cache.brand-changed"),
    Subscription(CategoryChanged, forget_all, name="catalog.cache.category-changed"),
]
