"""The index follows the catalog's events. Idempotent: a refresh writes the product as the catalog has it
now, whatever the order the events arrive in.

Atomic (ADR 0015): each handler *reads* the catalog through its facade and writes only the search
database, so the inbox row commits with the index write — and a batch of events commits once. A read
takes no lock the inbox transaction holds, which is what ``atomic=False`` exists to avoid; before, each
event cost four commits (inbox lookup, catalog read, index write, inbox record), now a share of the batch's
one commit and of one catalog read for the batch's products (the ``batch`` handlers)."""

from __future__ import annotations

from collections.abc import Sequence
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


def on_product_events(envelopes: Sequence[Envelope[Any]]) -> None:
    """A relay batch's events of one kind: one catalog read for all their products (was one per event)."""
    indexer.refresh([envelope.event.product_id for envelope in envelopes])


def on_brand_changed(envelope: Envelope[Any]) -> None:
    """Renamed or deleted: every document that shows the brand is rewritten from the catalog."""
    indexer.refresh(indexer.products_with(brand_id=envelope.event.brand_id))


def on_category_changed(envelope: Envelope[Any]) -> None:
    indexer.refresh(indexer.products_with(category_id=envelope.event.category_id))


SUBSCRIPTIONS = [
    Subscription(ProductCreated, on_product_event, name="search.product-created", batch=on_product_events),
    Subscription(ProductUpdated, on_product_event, name="search.product-updated", batch=on_product_events),
    Subscription(ProductDeleted, on_product_event, name="search.product-deleted", batch=on_product_events),
    Subscription(StockChanged, on_product_event, name="search.stock-changed", batch=on_product_events),
    Subscription(BrandChanged, on_brand_changed, name="search.brand-changed"),
    Subscription(CategoryChanged, on_category_changed, name="search.category-changed"),
]
