"""Checkout and everything that happens to an order afterwards.

Checkout never holds a transaction across modules. It reserves stock in the catalog first (its own
transaction), then writes the order, its items, the ``OrderPlaced`` event and the removal of exactly the
ordered cart lines in one orders transaction; if that fails, the reservation is released. The reservation
and the order share one deadline: if the process dies in between, the catalog's sweep expires the orphan
reservation at that deadline, and an order never holds stock longer than its own expiry. Every later move goes through
:func:`transition` — a conditional update from the state the order is known to be in — so two
workers (or a retried event) can never apply the same move twice.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.orders import cart, states
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.orders.models import Order, OrderItem, database, events
from ecommerce.modules.users import api as users

_order_ttl = datetime.timedelta(minutes=30)


def configure(order_ttl_seconds: int) -> None:
    global _order_ttl
    _order_ttl = datetime.timedelta(seconds=order_ttl_seconds)


def checkout(user_id: int, address_id: int, within: Callable[[int], None] | None = None,
             items: list[tuple[int, int]] | None = None) -> int:
    """Turn the cart into an order ``pending_payment``; returns the order id.

    Totals are computed here from the catalog's current prices: nothing price-like from the client is used.
    ``within(order_id)`` runs inside the order's transaction (the route stores its idempotent response
    there: one commit for the order and its replay). ``items``: the cart's lines when the caller already
    read them (the route does, in the key's claim); exactly these units leave the cart.
    """
    address = users.address_snapshot(user_id, address_id)  # 404 if missing or someone else's
    items = cart.lines(user_id) if items is None else items
    if not items:
        raise Conflict("The cart is empty.")
    reference = f"order-{uuid.uuid4().hex}"
    # One deadline for the stock and the order: a reservation whose order never got written (the process
    # died in between) is expired by the catalog's sweep at the moment the order would have expired.
    deadline = utcnow() + _order_ttl
    # The prices are read, checked and the stock reserved in one catalog transaction (one commit); a
    # refusal (409) holds nothing.
    prices = catalog.reserve_priced(reference, items, lambda found: refuse_unsellable(items, found),
                                    country=address.country, hold_until=deadline)
    crash_point("checkout.after_reserve")
    try:
        order_id = _place(user_id, address.id, address.as_dict(), reference, items, prices,
                          prices[items[0][0]].currency, deadline, within)
    except BaseException:
        catalog.release(reference)
        raise
    crash_point("checkout.after_order_commit")
    return order_id


def refuse_unsellable(items: list[tuple[int, int]], prices: dict[int, Any]) -> None:
    """A cart that cannot become one payable order: a product gone, mixed currencies, nothing to pay."""
    gone = [pid for pid, _ in items if pid not in prices]
    if gone:
        raise Conflict(f"Some products are no longer sold: {', '.join(map(str, gone))}. Remove them first.")
    if len({prices[pid].currency for pid, _ in items}) != 1:
        raise Conflict("The cart mixes currencies; check out one currency at a time.")
    refuse_nothing_to_pay(items, prices)


def refuse_nothing_to_pay(items: list[tuple[int, int]], prices: dict[int, Any]) -> None:
    """A total of 0 could never be paid (a payment is a positive amount), so no order is made for it: it
    would hold stock until it expired. Prices are positive since issue 14; this guards older products."""
    if sum(prices[pid].unit_price * qty for pid, qty in items) < 1:
        names = ", ".join(str(prices[pid].name) for pid, _ in items)
        raise Conflict(f"The cart's total is 0 ({names}): there is nothing to pay, so it cannot be checked out.")


#: The order and its lines, compiled once (and once per number of lines): building these inserts with peewee
#: was a fifth of a checkout's CPU in the app (py-spy, benchmarks/http, issue 15). Times are declared ``str``
#: and given as datetimes (see ``Statement.execute``).
_INSERT_ORDER = Statement(database, lambda user_id, address_id, currency, subtotal, total, item_count, address,
                          reference, created_at, updated_at, expires_at: Order.insert(
    user_id=user_id, address_id=address_id, order_status=states.PENDING, payment_status="unpaid", currency=currency,
    subtotal=subtotal, total=total, item_count=item_count, shipping_address=address, reservation=reference,
    created_at=created_at, updated_at=updated_at, expires_at=expires_at,
).returning(Order.id), int, int, str, int, int, int, str, str, str, str, str)
_ITEM_KINDS = (int, int, str, str, int, int, int)  # order, product, name, sku, unit price, quantity, line total
_INSERT_ITEMS: dict[int, Statement] = {}


def _insert_items(count: int) -> Statement:
    """One multi-row INSERT of ``count`` order lines (one round trip), compiled once per count."""
    found = _INSERT_ITEMS.get(count)
    if found is None:
        def build(*values: Any) -> Any:
            width = len(_ITEM_KINDS)
            return OrderItem.insert_many(
                [values[i:i + width] for i in range(0, len(values), width)],
                fields=[OrderItem.order, OrderItem.product_id, OrderItem.product_name, OrderItem.sku,
                        OrderItem.unit_price, OrderItem.quantity, OrderItem.line_total],
            ).as_rowcount()
        found = _INSERT_ITEMS[count] = Statement(database, build, *(_ITEM_KINDS * count))
    return found


def _place(user_id: int, address_id: int, address: dict[str, Any], reference: str,
           items: list[tuple[int, int]], prices: dict[int, Any], currency: str, deadline: datetime.datetime,
           within: Callable[[int], None] | None = None) -> int:
    now = utcnow()
    subtotal = sum(prices[pid].unit_price * qty for pid, qty in items)
    with database.atomic():
        order_id = _INSERT_ORDER.rows(user_id, address_id, currency, subtotal, subtotal, sum(q for _, q in items),
                                      json.dumps(address), reference, now, now, deadline)[0][0]
        _insert_items(len(items)).execute(*(
            value for pid, qty in items
            for value in (order_id, pid, prices[pid].name, prices[pid].sku, prices[pid].unit_price, qty,
                          prices[pid].unit_price * qty)
        ))
        events.publish(OrderPlaced(
            order_id=order_id, user_id=user_id, total=subtotal, currency=currency,
            lines=[{"product_id": pid, "quantity": qty, "unit_price": prices[pid].unit_price} for pid, qty in items],
        ))
        # Exactly the ordered units leave the cart: a line added or raised while this checkout ran stays.
        cart.remove_ordered(user_id, items)
        if within is not None:
            within(order_id)
        crash_point("checkout.before_order_commit")
    return int(order_id)


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
