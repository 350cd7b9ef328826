"""The index follows the catalog's events. Non-atomic (each reads the catalog through its facade) and
idempotent: a refresh writes the product as the catalog has it now."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog.events import ProductCreated, ProductDeleted, ProductUpdated, StockChanged
from ecommerce.modules.search import indexer


def on_product_event(envelope: Envelope[Any]) -> None:
    indexer.refresh([envelope.event.product_id])


SUBSCRIPTIONS = [
    Subscription(ProductCreated, on_product_event, name="search.product-created", atomic=False),
    Subscription(ProductUpdated, on_product_event, name="search.product-updated", atomic=False),
    Subscription(ProductDeleted, on_product_event, name="search.product-deleted", atomic=False),
    Subscription(StockChanged, on_product_event, name="search.stock-changed", atomic=False),
]
