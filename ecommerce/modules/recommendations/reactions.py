"""The events the model follows.

- Order events are ``atomic`` (inbox + effects in one transaction of our own database, exactly once);
  their effects are order-independent and idempotent as well (see ``purchases``), so the model is a
  function of the set of events — which a rebuild from the event log computes directly (``lake_python``).
- Category lookups *read* the catalog's facade and upsert our own table: atomic too (ADR 0015), so the
  inbox row commits with the upsert (a read takes no lock our transaction holds); idempotent anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog.events import ProductUpdated
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations import categories, purchases


def on_order_placed(envelope: Envelope[Any]) -> None:
    event: OrderPlaced = envelope.event
    purchases.record_placed(event.order_id, event.user_id, event.lines, envelope.occurred_at)


def on_order_status_changed(envelope: Envelope[Any]) -> None:
    event: OrderStatusChanged = envelope.event
    purchases.record_status(event.order_id, event.user_id, event.to_status)


def on_order_placed_categories(envelope: Envelope[Any]) -> None:
    categories.refresh(int(line["product_id"]) for line in envelope.event.lines)


def on_orders_placed_categories(envelopes: Sequence[Envelope[Any]]) -> None:
    """A relay batch's orders: one catalog read and one upsert for all their products (was one per order)."""
    categories.refresh(int(line["product_id"]) for envelope in envelopes for line in envelope.event.lines)


def on_product_updated(envelope: Envelope[Any]) -> None:
    event: ProductUpdated = envelope.event
    if not event.changed or "category_id" in event.changed or "category" in event.changed:
        categories.refresh_known(event.product_id)


SUBSCRIPTIONS = [
    Subscription(OrderPlaced, on_order_placed, name="recommendations.order-placed"),
    Subscription(OrderStatusChanged, on_order_status_changed, name="recommendations.order-status-changed"),
    Subscription(OrderPlaced, on_order_placed_categories, name="recommendations.order-categories",
                 batch=on_orders_placed_categories),
    Subscription(ProductUpdated, on_product_updated, name="recommendations.product-updated"),
]
