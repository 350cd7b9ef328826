"""Suite 1 — loading N orders with their items: N+1 queries vs one join vs peewee's prefetch/with_related.

The question: "the N most recent orders of the busiest customer, each with its lines" (an order-history
page, an export). Every variant returns ``[(order id, [(item id, sku, quantity), ...]), ...]``.
"""

from __future__ import annotations

from peewee import prefetch

from benchmarks.sql.harness import Plan, Rows, Target, fetch
from ecommerce.modules.orders.models import Order, OrderItem

SIZES = (10, 50, 100, 250, 500)
SMOKE_SIZES = (10,)


def prepare(target: Target) -> dict[str, int]:
    """The customer with the most orders (the dataset's popularity is skewed, so it has hundreds)."""
    def busiest() -> int:
        row = fetch(target.db("orders"),
                    "SELECT user_id FROM orders GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1")
        return int(row[0][0])

    return {"user_id": target.call(busiest)}


def _recent(ctx: dict[str, int], n: int):  # type: ignore[no-untyped-def]
    return Order.select().where(Order.user_id == ctx["user_id"]).order_by(Order.id.desc()).limit(n)


def _shape(order: Order, items: list[OrderItem]) -> tuple[int, list[tuple[int, str, int]]]:
    return order.id, sorted((i.id, i.sku, i.quantity) for i in items)


def n_plus_one(ctx: dict[str, int], n: int) -> Rows:
    """The lazy default: one query for the orders, then one per order for its items."""
    return [_shape(order, list(order.items)) for order in _recent(ctx, n)]


def join(ctx: dict[str, int], n: int) -> Rows:
    """One query: orders joined to their items, grouped back in Python."""
    recent = _recent(ctx, n).select(Order.id).alias("recent")
    query = (OrderItem.select(OrderItem.order_id, OrderItem.id, OrderItem.sku, OrderItem.quantity)
             .join(recent, on=(OrderItem.order_id == recent.c.id))
             .order_by(OrderItem.order_id.desc(), OrderItem.id).tuples())
    grouped: dict[int, list[tuple[int, str, int]]] = {}
    for order_id, item_id, sku, quantity in query:
        grouped.setdefault(order_id, []).append((item_id, sku, quantity))
    return [(order_id, sorted(items)) for order_id, items in grouped.items()]


def prefetched(ctx: dict[str, int], n: int) -> Rows:
    """peewee ``prefetch``: two queries (orders, then items WHERE order_id IN (subquery))."""
    return [_shape(order, order.items) for order in prefetch(_recent(ctx, n), OrderItem)]


def with_related(ctx: dict[str, int], n: int) -> Rows:
    """peewee 4 ``with_related(Order.items)``: the same two queries, declared on the query."""
    return [_shape(order, order.items) for order in _recent(ctx, n).with_related(Order.items)]


VARIANTS = {"n+1": n_plus_one, "join": join, "prefetch": prefetched, "with_related": with_related}


def plan(ctx: dict[str, int], variant: str, n: int) -> Plan:
    if variant == "n+1":
        return Plan("orders", "SELECT * FROM order_items WHERE order_id = ?", (1,))
    return Plan("orders", "SELECT i.* FROM order_items i JOIN (SELECT id FROM orders WHERE user_id = ? "
                "ORDER BY id DESC LIMIT ?) r ON i.order_id = r.id", (ctx["user_id"], n))
