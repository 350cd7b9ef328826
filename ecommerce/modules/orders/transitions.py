"""Everything that happens to an order after checkout: payment, cancellation, expiry, refunds.

Every move goes through :func:`transition` — a conditional update from the state the order is known to be
in — so two workers (or a retried event) can never apply the same move twice.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.orders import states
from ecommerce.modules.orders.events import OrderStatusChanged
from ecommerce.modules.orders.models import Order, database, events


def transition(order_id: int, target: str, *, payment_status: str | None = None,
               refund_requested: bool = False, expected: str | None = None) -> Order:
    """Move an order to ``target`` if the state machine allows it — exactly once.

    Raises 404 for an unknown order and 409 naming both states for an illegal move.
    """
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound("No such order.")
    current = expected or order.order_status
    states.check(current, target)
    changes: dict[str, Any] = {"order_status": target, "updated_at": utcnow()}
    if payment_status is not None:
        changes["payment_status"] = payment_status
    with database.atomic():
        moved = Order.update(**changes).where((Order.id == order_id) & (Order.order_status == current)).execute()
        if moved != 1:
            now_in = Order.get_by_id(order_id).order_status
            raise states.illegal(now_in, target)
        events.publish(OrderStatusChanged(order_id=order_id, user_id=order.user_id, from_status=current,
                                          to_status=target, refund_requested=refund_requested))
    return Order.get_by_id(order_id)


def release_stock(order: Order) -> None:
    """Give an order's units back to the catalog, whatever happened to them so far (idempotent):
    held units are released; committed ones (the order was paid) go back on the shelf."""
    try:
        catalog.release(order.reservation)
    except Conflict:  # not held any more: committed (or already returned)
        catalog.restock(order.reservation)


def cancel(user_id: int, order_id: int) -> Order:
    """The customer cancels before fulfilment; a paid order also asks payments for a refund."""
    order = Order.get_or_none((Order.id == order_id) & (Order.user_id == user_id))
    if order is None:
        raise NotFound("No such order.")
    if order.order_status not in states.CUSTOMER_CANCELLABLE:
        raise states.illegal(order.order_status, states.CANCELLED)
    paid = order.order_status == states.PAID
    moved = transition(order_id, states.CANCELLED, refund_requested=paid, expected=order.order_status)
    release_stock(moved)
    return moved


def admin_transition(order_id: int, target: str) -> Order:
    if target not in states.ADMIN_TARGETS:
        raise Conflict(f"{target} is not set by hand (allowed: {', '.join(sorted(states.ADMIN_TARGETS))}).")
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound("No such order.")
    moved = transition(order_id, target, refund_requested=order.order_status == states.PAID and
                       target == states.CANCELLED)
    if target == states.CANCELLED:
        release_stock(moved)
    return moved


def expire_due(now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Expire unpaid orders past their deadline and release their stock. Safe to run concurrently:
    each order is claimed by a conditional update, and releasing is idempotent."""
    moment = now or utcnow()
    due = list(
        Order.select(Order.id)
        .where((Order.order_status == states.PENDING) & (Order.expires_at <= moment))
        .order_by(Order.expires_at)
        .limit(batch)
    )
    expired = 0
    for row in due:
        try:
            order = transition(row.id, states.EXPIRED, expected=states.PENDING)
        except Conflict:
            continue  # paid, cancelled or expired by someone else meanwhile
        catalog.release(order.reservation)
        expired += 1
    return expired


def cancel_unstocked(order_id: int) -> None:
    """A payment arrived after the order's reservation expired and its units were sold meanwhile
    (``catalog.commit`` raised ``InsufficientStock``): the paid order cannot ship, so it is cancelled with a
    refund request and payments gives the money back. A repeat finds it cancelled already: no-op."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.order_status == states.CANCELLED:
        return
    transition(order_id, states.CANCELLED, refund_requested=True, expected=states.PAID)


SHIPPABLE = (states.PAID, states.FULFILLED, states.SHIPPED, states.DELIVERED)


def payment_succeeded(order_id: int) -> None:
    """PaymentSucceeded: the order is paid and its reservation committed (stock leaves for good).

    Idempotent in both steps, so a redelivery after a crash between them finishes the job. A payment that
    arrives for an order already expired or cancelled leaves the order as it is: the payments module gives
    that money back on its own (it reacts to its ``PaymentSucceeded`` and to the order's
    ``OrderStatusChanged``, whichever comes last sees the other).
    """
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        return
    if order.order_status == states.PENDING:
        try:
            order = transition(order_id, states.PAID, payment_status="paid", expected=states.PENDING)
        except Conflict:
            order = Order.get_by_id(order_id)  # expired or cancelled meanwhile: payments refunds on its side
    if order.order_status in SHIPPABLE:
        catalog.commit(order.reservation)


def payment_failed(order_id: int) -> None:
    """PaymentFailed: the order stays payable until it expires; only its payment status says so."""
    Order.update(payment_status="failed", updated_at=utcnow()).where(
        (Order.id == order_id) & (Order.order_status == states.PENDING)
    ).execute()


def payment_refunded(order_id: int, fully: bool) -> None:
    """PaymentRefunded: ``payment_status`` says how much went back, and the state says what it means.

    After fulfilment, a full refund ends the order ``refunded`` (a partial one keeps its state). A refund
    of a ``paid`` order cancels it, however the refund came about: before fulfilment a refund is a
    cancellation (payments' policy already cancels first), so a paid order with money returned can never be
    shipped; the cancellation asks payments for the rest, and the release safety net returns the stock.
    """
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        return
    status = "refunded" if fully else "partially_refunded"
    Order.update(payment_status=status, updated_at=utcnow()).where(Order.id == order_id).execute()
    if order.order_status == states.PAID:
        with contextlib.suppress(Conflict):  # fulfilled meanwhile: the refund stays a refund of a fulfilled order
            transition(order_id, states.CANCELLED, refund_requested=True, expected=states.PAID)
        return
    for _ in states.STATES:  # the shop may move it along meanwhile (shipped, delivered): follow it
        current = Order.get_by_id(order_id).order_status
        if not fully or states.REFUNDED not in states.TRANSITIONS[current]:
            return
        try:
            transition(order_id, states.REFUNDED, payment_status=status, expected=current)
            return
        except Conflict:
            continue
