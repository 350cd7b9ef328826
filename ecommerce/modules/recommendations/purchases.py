"""Order events into purchase counts, exactly once, whatever the order or repetition of delivery.

How a redelivered or reordered event never counts twice (no check-then-act anywhere):
- an event only ever *raises* flags on the order's row (placed, paid, void) with an upsert;
- :func:`settle` then moves ``counted`` with a conditional update — ``counted = TRUE WHERE counted =
  FALSE AND placed AND paid AND NOT void`` — and adds the order to the counts only when that update
  changed a row; the reverse (``WHERE counted AND void``) takes it back out exactly once;
- a void order never counts again, so the final counts depend only on *which* events happened, not
  on their order: that is what lets a rebuild from the event log reproduce them exactly.
The atomic subscriptions also go through the inbox, so the second delivery does not even get here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from peewee import EXCLUDED

from ecommerce.kernel.statements import Statement
from ecommerce.modules.orders.events import PAID_OR_LATER, VOID
from ecommerce.modules.recommendations.models import OrderFacts, OrderLine, Pair, Sales, database

#: Order states after payment that imply it was paid (in case the "paid" event itself is still late).
PAID_STATES = PAID_OR_LATER
#: States in which an order is not (or no longer) a purchase.
VOID_STATES = VOID


def quantities(lines: Iterable[Mapping[str, int]]) -> dict[int, int]:
    """Units per product of an order's lines (the same product on two lines: summed)."""
    out: dict[int, int] = {}
    for line in lines:
        product_id, quantity = int(line["product_id"]), int(line.get("quantity", 1))
        out[product_id] = out.get(product_id, 0) + quantity
    return out


# Every placed order runs these (the relay, one checkout each): compiled once, not built by peewee per event
# (peewee's SQL compiler was the largest part of the relay's CPU in a checkout's GIL profile; ADR 0015).
_placed = Statement(database, lambda order_id, user_id, at: OrderFacts.insert(
    order_id=order_id, user_id=user_id, placed=True, placed_at=at,
).on_conflict(
    conflict_target=[OrderFacts.order_id], update={OrderFacts.placed: True, OrderFacts.placed_at: EXCLUDED.placed_at},
).as_rowcount(), int, int, str)
_gain = Statement(database, lambda order_id: OrderFacts.update(counted=True).where(
    (OrderFacts.order_id == order_id) & ~OrderFacts.counted & OrderFacts.placed & OrderFacts.paid & ~OrderFacts.void))
_lose = Statement(database, lambda order_id: OrderFacts.update(counted=False).where(
    (OrderFacts.order_id == order_id) & OrderFacts.counted & OrderFacts.void))
#: The order's lines in one INSERT, compiled once per number of products (up to this many).
_LINES_COMPILED_UP_TO = 20
_lines: dict[int, Statement] = {}


def _insert_lines(order_id: int, per_product: Mapping[int, int]) -> None:
    rows = [(order_id, p, q) for p, q in sorted(per_product.items())]
    if len(rows) > _LINES_COMPILED_UP_TO:  # a large order: rare, built each time
        OrderLine.insert_many(rows, fields=[OrderLine.order_id, OrderLine.product_id, OrderLine.quantity]
                              ).on_conflict_ignore().as_rowcount().execute()
        return
    statement = _lines.get(len(rows))
    if statement is None:
        def build(*values: int) -> Any:
            return OrderLine.insert_many([values[i:i + 3] for i in range(0, len(values), 3)],
                                         fields=[OrderLine.order_id, OrderLine.product_id, OrderLine.quantity]
                                         ).on_conflict_ignore().as_rowcount()

        statement = _lines[len(rows)] = Statement(database, build, *([int] * (3 * len(rows))))
    statement.execute(*(value for row in rows for value in row))


def record_placed(order_id: int, user_id: int, lines: Iterable[Mapping[str, int]],
                  occurred_at: datetime.datetime) -> None:
    """``orders.OrderPlaced``: remember the order's buyer and products."""
    per_product = quantities(lines)
    # ``transaction``, not ``atomic``: inside the relay's inbox transaction it joins it (a savepoint would be
    # two more round trips per event, and a failure rolls the whole batch back anyway); alone, its own.
    with database.transaction():
        _placed.execute(order_id, user_id, occurred_at)
        if per_product:
            _insert_lines(order_id, per_product)
        settle(order_id)


def record_status(order_id: int, user_id: int, to_status: str) -> None:
    """``orders.OrderStatusChanged``: raise the paid or void flag, then settle the counts."""
    if to_status in PAID_STATES:
        flag = OrderFacts.paid
    elif to_status in VOID_STATES:
        flag = OrderFacts.void
    else:
        return
    with database.transaction():  # joins the relay's inbox transaction (see record_placed)
        OrderFacts.insert(order_id=order_id, user_id=user_id, **{flag.name: True}).on_conflict(
            conflict_target=[OrderFacts.order_id], update={flag: True}
        ).execute()
        settle(order_id)


def settle(order_id: int) -> int:
    """Bring the order's contribution to the counts in line with its flags: +1, -1 or nothing."""
    if _gain.execute(order_id):
        _add(order_id, +1)
        return +1
    if _lose.execute(order_id):
        _add(order_id, -1)
        return -1
    return 0


def _add(order_id: int, delta: int) -> None:
    """Add (or take back) one order's products to sales and every pair of them to bought-together."""
    lines = {
        row.product_id: row.quantity
        for row in OrderLine.select(OrderLine.product_id, OrderLine.quantity).where(OrderLine.order_id == order_id)
    }
    if not lines:
        return
    Sales.insert_many(
        [{"product_id": p, "orders": delta, "units": delta * q} for p, q in sorted(lines.items())]
    ).on_conflict(
        conflict_target=[Sales.product_id],
        update={Sales.orders: Sales.orders + EXCLUDED.orders, Sales.units: Sales.units + EXCLUDED.units},
    ).execute()
    pairs = [{"product_id": a, "other_id": b, "orders": delta} for a in sorted(lines) for b in sorted(lines) if a != b]
    if pairs:
        Pair.insert_many(pairs).on_conflict(
            conflict_target=[Pair.product_id, Pair.other_id], update={Pair.orders: Pair.orders + EXCLUDED.orders}
        ).execute()
    if delta < 0:  # a taken-back order leaves no zero rows behind (a rebuild would not create them)
        products = sorted(lines)
        Pair.delete().where(Pair.product_id.in_(products) & (Pair.orders <= 0)).execute()
        Sales.delete().where(Sales.product_id.in_(products) & (Sales.orders <= 0)).execute()
