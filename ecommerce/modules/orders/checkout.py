"""Checkout: the cart becomes an order ``pending_payment`` with its stock reserved.

Checkout never holds a transaction across modules. It reserves stock in the catalog first (its own
transaction), then writes the order, its items, the ``OrderPlaced`` event and the removal of exactly the
ordered cart lines in one orders transaction; if that fails, the reservation is released. The reservation
and the order share one deadline: if the process dies in between, the catalog's sweep expires the orphan
reservation at that deadline, and an order never holds stock longer than its own expiry. Every later move
is in :mod:`ecommerce.modules.orders.transitions`.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict
from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.orders import cart, queries, settings, states
from ecommerce.modules.orders.events import OrderPlaced
from ecommerce.modules.orders.models import Order, OrderItem, database, events
from ecommerce.modules.users import api as users


def checkout(user_id: int, address_id: int, within: Callable[[int], None] | None = None,
             items: list[tuple[int, int]] | None = None,
             answer: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Turn the cart into an order ``pending_payment``; returns the order id.

    Totals are computed here from the catalog's current prices: nothing price-like from the client is used.
    ``within(order_id)`` runs inside the order's transaction, and so does ``answer(detail)``, with the
    order's detail as ``GET /orders/{id}`` shows it, taken from the inserts (the route stores it as its
    idempotent response there: one commit for the order and its replay). ``items``: the cart's lines when
    the caller already read them (the route does, in the key's claim); exactly these units leave the cart.
    """
    address = users.address_snapshot(user_id, address_id)  # 404 if missing or someone else's
    items = cart.lines(user_id) if items is None else items
    if not items:
        raise Conflict("The cart is empty.")
    reference = f"order-{uuid.uuid4().hex}"
    # One deadline for the stock and the order: a reservation whose order never got written (the process
    # died in between) is expired by the catalog's sweep at the moment the order would have expired.
    deadline = utcnow() + settings.runtime.get().order_lifetime
    # The prices are read, checked and the stock reserved in one catalog transaction (one commit); a
    # refusal (409) holds nothing.
    prices = catalog.reserve_priced(reference, items, lambda found: refuse_unsellable(items, found),
                                    country=address.country, hold_until=deadline)
    crash_point("checkout.after_reserve")
    try:
        order_id = _place(user_id, address.id, address.as_dict(), reference, items, prices,
                          prices[items[0][0]].currency, deadline, within, answer)
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
#: was a fifth of a checkout's CPU in the app (py-spy, benchmarks/http, ADR 0015). Times are declared ``str``
#: and given as datetimes (see ``Statement.execute``). Both return what the order's detail shows (the order's
#: ``queries.ORDER_COLUMNS``, each line's id and ``queries.ITEM_COLUMNS``), so the answer is not read back.
_INSERT_ORDER = Statement(database, lambda user_id, address_id, currency, subtotal, total, item_count, address,
                          reference, created_at, updated_at, expires_at: Order.insert(
    user_id=user_id, address_id=address_id, order_status=states.PENDING, payment_status="unpaid", currency=currency,
    subtotal=subtotal, total=total, item_count=item_count, shipping_address=address, reservation=reference,
    created_at=created_at, updated_at=updated_at, expires_at=expires_at,
).returning(*queries.ORDER_COLUMNS), int, int, str, int, int, int, str, str, str, str, str)
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
            ).returning(OrderItem.id, *queries.ITEM_COLUMNS)
        found = _INSERT_ITEMS[count] = Statement(database, build, *(_ITEM_KINDS * count))
    return found


def _place(user_id: int, address_id: int, address: dict[str, Any], reference: str,
           items: list[tuple[int, int]], prices: dict[int, Any], currency: str, deadline: datetime.datetime,
           within: Callable[[int], None] | None = None,
           answer: Callable[[dict[str, Any]], None] | None = None) -> int:
    now = utcnow()
    subtotal = sum(prices[pid].unit_price * qty for pid, qty in items)
    with database.atomic():
        order = _INSERT_ORDER.rows(user_id, address_id, currency, subtotal, subtotal, sum(q for _, q in items),
                                   json.dumps(address), reference, now, now, deadline)[0]
        order_id = order[0]
        lines = sorted(_insert_items(len(items)).rows(*(
            value for pid, qty in items
            for value in (order_id, pid, prices[pid].name, prices[pid].sku, prices[pid].unit_price, qty,
                          prices[pid].unit_price * qty)
        )))  # by id, as the order's detail lists them
        events.publish(OrderPlaced(
            order_id=order_id, user_id=user_id, total=subtotal, currency=currency,
            lines=[{"product_id": pid, "quantity": qty, "unit_price": prices[pid].unit_price} for pid, qty in items],
        ))
        # Exactly the ordered units leave the cart: a line added or raised while this checkout ran stays.
        cart.remove_ordered(user_id, items)
        if within is not None:
            within(order_id)
        if answer is not None:
            answer(queries.placed(order, [line[1:] for line in lines]))
        crash_point("checkout.before_order_commit")
    return int(order_id)
