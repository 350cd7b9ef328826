"""Payments' reactions to events: money captured for an order that will never ship goes back."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.orders import api as orders
from ecommerce.modules.orders.events import OrderStatusChanged
from ecommerce.modules.payments import refunds
from ecommerce.modules.payments.events import PaymentSucceeded


def on_order_status_changed(envelope: Envelope[Any]) -> None:
    """An order was cancelled (paid or not) or expired: refund whatever was captured for it."""
    event = envelope.event
    if event.to_status in orders.CLOSED_UNFULFILLED:
        refunds.refund_closed_order(event.order_id, was_paid=event.refund_requested)


def on_payment_succeeded(envelope: Envelope[Any]) -> None:
    """Our own payment settled: if its order closed meanwhile, the money goes back (durable, after a crash)."""
    refunds.refund_if_order_closed(envelope.event.payment_id)


# Non-atomic: both talk to the gateway; they are idempotent through their fixed references.
SUBSCRIPTIONS = [
    Subscription(OrderStatusChanged, on_order_status_changed, name="payments.refund-cancelled", atomic=False),
    Subscription(PaymentSucceeded, on_payment_succeeded, name="payments.refund-late-payment", atomic=False),
]
