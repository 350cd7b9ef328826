"""What the module listens to. Every subscription is non-atomic (it reads the recipient through the
users facade, and the store may be Redis, outside any SQL transaction) and idempotent (compose.notify).

Each event becomes at most one notification request (recipient, template, values); a subscription's
``batch`` handler composes a relay batch's requests together (``compose.notify_many``: one read of the
recipients and one store write for the batch, where each event cost one of each; ADR 0015)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.notifications.compose import Request, notify, notify_many
from ecommerce.modules.notifications.templates import money
from ecommerce.modules.orders.events import CANCELLED, EXPIRED, SHIPPED, OrderPlaced, OrderStatusChanged
from ecommerce.modules.payments.events import PaymentFailed, PaymentSucceeded
from ecommerce.modules.users.events import UserRegistered

#: Order states a customer hears about after placement (paid is told by the payment's own email).
ORDER_STATES = {SHIPPED: "order_shipped", EXPIRED: "order_expired", CANCELLED: "order_cancelled"}

#: What one event asks to be told: (recipient's user id, template, values), or None (nothing to tell).
Told = tuple[int, str, dict[str, object]] | None


def user_registered(envelope: Envelope[Any]) -> Told:
    event: UserRegistered = envelope.event
    return event.user_id, "welcome", {}


def order_placed(envelope: Envelope[Any]) -> Told:
    event: OrderPlaced = envelope.event
    items = sum(int(line.get("quantity", 0)) for line in event.lines)
    return (event.user_id, "order_placed",
            {"order_id": event.order_id, "items": items, "total": money(event.total, event.currency)})


def order_status_changed(envelope: Envelope[Any]) -> Told:
    event: OrderStatusChanged = envelope.event
    template = ORDER_STATES.get(event.to_status)
    if template is None:
        return None
    note = " The payment will be refunded to your card." if event.refund_requested else ""
    return event.user_id, template, {"order_id": event.order_id, "refund_note": note}


def payment_succeeded(envelope: Envelope[Any]) -> Told:
    event: PaymentSucceeded = envelope.event
    return (event.user_id, "payment_succeeded",
            {"order_id": event.order_id, "payment_id": event.payment_id, "amount": money(event.amount, event.currency)})


def payment_failed(envelope: Envelope[Any]) -> Told:
    event: PaymentFailed = envelope.event
    return event.user_id, "payment_failed", {"order_id": event.order_id,
                                             "reason": event.reason.replace("_", " ") or "declined"}


def subscription(event: type[Any], told: Callable[[Envelope[Any]], Told], name: str) -> Subscription:
    """A non-atomic subscription that notifies what ``told`` says: per event, and per relay batch."""

    def one(envelope: Envelope[Any]) -> None:
        request = told(envelope)
        if request is not None:
            notify(envelope.event_id, *request)

    def many(envelopes: Sequence[Envelope[Any]]) -> None:
        requests: list[Request] = []
        for envelope in envelopes:
            request = told(envelope)
            if request is not None:
                requests.append((envelope.event_id, *request))
        if requests:
            notify_many(requests)

    return Subscription(event, one, name=name, atomic=False, batch=many)


SUBSCRIPTIONS = [
    subscription(UserRegistered, user_registered, "notifications.user-registered"),
    subscription(OrderPlaced, order_placed, "notifications.order-placed"),
    subscription(OrderStatusChanged, order_status_changed, "notifications.order-status-changed"),
    subscription(PaymentSucceeded, payment_succeeded, "notifications.payment-succeeded"),
    subscription(PaymentFailed, payment_failed, "notifications.payment-failed"),
]
