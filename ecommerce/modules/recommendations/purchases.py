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

from peewee import EXCLUDED

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


def record_placed(order_id: int, user_id: int, lines: Iterable[Mapping[str, int]],
                  occurred_at: datetime.datetime) -> None:
    """``orders.OrderPlaced``: remember the order's buyer and products."""
    per_product = quantities(lines)
    with database.atomic():
        OrderFacts.insert(order_id=order_id, user_id=user_id, placed=True, placed_at=occurred_at).on_conflict(
            conflict_target=[OrderFacts.order_id],
            update={OrderFacts.placed: True, OrderFacts.placed_at: occurred_at},
        ).execute()
        if per_product:
            OrderLine.insert_many(
                [{"order_id": order_id, "product_id": p, "quantity": q} for p, q in sorted(per_product.items())]
            ).on_conflict_ignore().execute()
        settle(order_id)


def record_status(order_id: int, user_id: int, to_status: str) -> None:
    """``orders.OrderStatusChanged``: raise the paid or void flag, then settle the counts."""
    if to_status in PAID_STATES:
        flag = OrderFacts.paid
    elif to_status in VOID_STATES:
        flag = OrderFacts.void
    else:
        return
    with database.atomic():
        OrderFacts.insert(order_id=order_id, user_id=user_id, **{flag.name: True}).on_conflict(
            conflict_target=[OrderFacts.order_id], update={flag: True}
        ).execute()
        settle(order_id)


def settle(order_id: int) -> int:
    """Bring the order's contribution to the counts in line with its flags: +1, -1 or nothing."""
    mine = OrderFacts.order_id == order_id
    gained = (
        OrderFacts.update(counted=True)
        .where(mine & ~OrderFacts.counted & OrderFacts.placed & OrderFacts.paid & ~OrderFacts.void)
        .execute()
    )
    if gained:
        _add(order_id, +1)
        return +1
    lost = OrderFacts.update(counted=False).where(mine & OrderFacts.counted & OrderFacts.void).execute()
    if lost:
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
