"""What the module listens to. Every subscription is non-atomic (it reads the recipient through the
users facade, and the store may be Redis, outside any SQL transaction) and idempotent (compose.notify)."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.notifications.compose import notify
from ecommerce.modules.notifications.templates import money
from ecommerce.modules.orders.events import CANCELLED, EXPIRED, SHIPPED, OrderPlaced, OrderStatusChanged
from ecommerce.modules.payments.events import PaymentFailed, PaymentSucceeded
from ecommerce.modules.users.events import UserRegistered

#: Order states a customer hears about after placement (paid is told by the payment's own email).
ORDER_STATES = {SHIPPED: "order_shipped", EXPIRED: "order_expired", CANCELLED: "order_cancelled"}


def on_user_registered(envelope: Envelope[Any]) -> None:
    event: UserRegistered = envelope.event
    notify(envelope.event_id, event.user_id, "welcome", {})


def on_order_placed(envelope: Envelope[Any]) -> None:
    event: OrderPlaced = envelope.event
    items = sum(int(line.get("quantity", 0)) for line in event.lines)
    notify(envelope.event_id, event.user_id, "order_placed",
           {"order_id": event.order_id, "items": items, "total": money(event.total, event.currency)})


def on_order_status_changed(envelope: Envelope[Any]) -> None:
    event: OrderStatusChanged = envelope.event
    template = ORDER_STATES.get(event.to_status)
    if template is None:
        return
    note = " The payment will be refunded to your card." if event.refund_requested else ""
    notify(envelope.event_id, event.user_id, template, {"order_id": event.order_id, "refund_note": note})


def on_payment_succeeded(envelope: Envelope[Any]) -> None:
    event: PaymentSucceeded = envelope.event
    notify(envelope.event_id, event.user_id, "payment_succeeded",
           {"order_id": event.order_id, "payment_id": event.payment_id, "amount": money(event.amount, event.currency)})


def on_payment_failed(envelope: Envelope[Any]) -> None:
    event: PaymentFailed = envelope.event
    notify(envelope.event_id, event.user_id, "payment_failed",
           {"order_id": event.order_id, "reason": event.reason.replace("_", " ") or "declined"})


SUBSCRIPTIONS = [
    Subscription(UserRegistered, on_user_registered, name="notifications.user-registered", atomic=False),
    Subscription(OrderPlaced, on_order_placed, name="notifications.order-placed", atomic=False),
    Subscription(OrderStatusChanged, on_order_status_changed, name="notifications.order-status-changed",
                 atomic=False),
    Subscription(PaymentSucceeded, on_payment_succeeded, name="notifications.payment-succeeded", atomic=False),
    Subscription(PaymentFailed, on_payment_failed, name="notifications.payment-failed", atomic=False),
]
