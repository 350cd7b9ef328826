"""Payments' reactions to other modules' events."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.orders.events import OrderStatusChanged
from ecommerce.modules.payments import refunds


def on_order_status_changed(envelope: Envelope[Any]) -> None:
    event = envelope.event
    if event.to_status == "cancelled" and event.refund_requested:
        refunds.refund_cancelled_order(event.order_id)


# Non-atomic: the refund talks to the gateway; it is idempotent through its fixed reference.
SUBSCRIPTIONS = [Subscription(OrderStatusChanged, on_order_status_changed, name="payments.refund-cancelled",
                              atomic=False)]
