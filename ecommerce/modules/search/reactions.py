"""The index follows the catalog's events. Non-atomic (each reads the catalog through its facade) and
idempotent: a refresh writes the product as the catalog has it now."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog.events import (
    BrandChanged,
    CategoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    StockChanged,
)
from ecommerce.modules.search import indexer


def on_product_event(envelope: Envelope[Any]) -> None:
    indexer.refresh([envelope.event.product_id])


def on_brand_changed(envelope: Envelope[Any]) -> None:
    """Renamed or deleted: every document that shows the brand is rewritten from the catalog."""
    indexer.refresh(indexer.products_with(brand_id=envelope.event.brand_id))


def on_category_changed(envelope: Envelope[Any]) -> None:
    indexer.refresh(indexer.products_with(category_id=envelope.event.category_id))


SUBSCRIPTIONS = [
    Subscription(ProductCreated, on_product_event, name="search.product-created", atomic=False),
    Subscription(ProductUpdated, on_product_event, name="search.product-updated", atomic=False),
    Subscription(ProductDeleted, on_product_event, name="search.product-deleted", atomic=False),
    Subscription(StockChanged, on_product_event, name="search.stock-changed", atomic=False),
    Subscription(BrandChanged, on_brand_changed, name="search.brand-changed", atomic=False),
    Subscription(CategoryChanged, on_category_changed, name="search.category-changed", atomic=False),
]
