"""Integration events the orders module publishes."""

from __future__ import annotations

from ecommerce.kernel.events import IntegrationEvent, integration_event
from ecommerce.modules.orders.states import (
    CANCELLED,
    DELIVERED,
    EXPIRED,
    FINAL,
    FULFILLED,
    PAID,
    PENDING,
    REFUNDED,
    SHIPPED,
    reachable,
)

#: The states ``OrderStatusChanged`` names, published with the events for the modules that react to them
#: (defined once, in ``states.py``; a consumer imports these instead of retyping the strings).
__all__ = [
    "CANCELLED",
    "DELIVERED",
    "EXPIRED",
    "FULFILLED",
    "PAID",
    "PAID_OR_LATER",
    "PENDING",
    "REFUNDED",
    "SHIPPED",
    "VOID",
    "OrderPlaced",
    "OrderStatusChanged",
]
#: States that imply the order was paid and still stands (in case the "paid" event itself is late).
PAID_OR_LATER = frozenset(({PAID} | reachable(PAID)) - FINAL)
#: States in which an order is not, or no longer, a purchase: the final ones.
VOID = FINAL


@integration_event("orders.OrderPlaced")
class OrderPlaced(IntegrationEvent):
    order_id: int
    user_id: int
    total: int
    currency: str
    lines: list[dict[str, int]]  # [{"product_id", "quantity", "unit_price"}]


@integration_event("orders.OrderStatusChanged")
class OrderStatusChanged(IntegrationEvent):
    """Every transition after placement: paid, fulfilled, shipped, delivered, cancelled, expired, refunded."""

    order_id: int
    user_id: int
    from_status: str
    to_status: str
    refund_requested: bool = False  # a paid order was cancelled: payments should refund it
