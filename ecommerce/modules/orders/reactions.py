"""What the orders module does when other modules' events arrive (each runs once, via the inbox)."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog.api import InsufficientStock
from ecommerce.modules.orders import transitions
from ecommerce.modules.orders.events import OrderStatusChanged
from ecommerce.modules.payments.events import PaymentFailed, PaymentRefunded, PaymentSucceeded


def on_payment_succeeded(envelope: Envelope[Any]) -> None:
    """Pay the order and commit its stock. If the payment came so late that the reservation expired and
    its units were sold meanwhile, the order cannot ship: cancel it with a refund (no lost unit, no lost
    money)."""
    try:
        transitions.payment_succeeded(envelope.event.order_id)
    except InsufficientStock:
        transitions.cancel_unstocked(envelope.event.order_id)


def on_payment_failed(envelope: Envelope[Any]) -> None:
    transitions.payment_failed(envelope.event.order_id)


def on_payment_refunded(envelope: Envelope[Any]) -> None:
    transitions.payment_refunded(envelope.event.order_id, envelope.event.fully_refunded)


def on_status_changed(envelope: Envelope[Any]) -> None:
    """Safety net: the stock of a cancelled or expired order is released after the fact too, in case the
    process stopped between the state change and the direct release (both are idempotent)."""
    event = envelope.event
    if event.to_status in ("cancelled", "expired"):
        from ecommerce.modules.orders.models import Order

        order = Order.get_or_none(Order.id == event.order_id)
        if order is not None:
            transitions.release_stock(order)


# Reactions that call the catalog are non-atomic (they cross into another module's database) and
# idempotent by construction: conditional state changes and idempotent reserve/commit/release.
SUBSCRIPTIONS = [
    Subscription(PaymentSucceeded, on_payment_succeeded, name="orders.payment-succeeded", atomic=False),
    Subscription(PaymentFailed, on_payment_failed, name="orders.payment-failed"),
    Subscription(PaymentRefunded, on_payment_refunded, name="orders.payment-refunded"),
    Subscription(OrderStatusChanged, on_status_changed, name="orders.release-stock", atomic=False),
]
