"""Reading orders: mine (newest first, keyset by id), one with its items, and the admin list."""

from __future__ import annotations

import datetime
import json
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from ecommerce.kernel.clock import isoformat
from ecommerce.kernel.errors import FieldError, NotFound, ValidationFailed
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.kernel.replicas import replica_reads
from ecommerce.kernel.statements import Statement
from ecommerce.modules.orders import states
from ecommerce.modules.orders.models import Order, OrderItem, database


def render(order: Any, items: list[Any]) -> dict[str, Any]:
    """``order`` and ``items``: models, or rows with the same attribute names (:func:`detail`)."""
    return {
        "id": order.id,
        "order_status": order.order_status,
        "payment_status": order.payment_status,
        "items": [
            {"product_id": i.product_id, "name": i.product_name, "sku": i.sku, "quantity": i.quantity,
             "unit_price": i.unit_price, "line_total": i.line_total}
            for i in items
        ],
        "subtotal": order.subtotal,
        "total": order.total,
        "currency": order.currency,
        "shipping_address": json.loads(order.shipping_address),
        "created_at": isoformat(order.created_at),
        "expires_at": isoformat(order.expires_at) if order.expires_at else None,
    }


def _with_items(orders: list[Order]) -> list[dict[str, Any]]:
    """Orders and all their items in two queries, whatever the page size (no N+1)."""
    by_order: dict[int, list[OrderItem]] = {o.id: [] for o in orders}
    if orders:
        for item in OrderItem.select().where(OrderItem.order.in_(list(by_order))).order_by(OrderItem.id):
            by_order[item.order_id].append(item)
    return [render(o, by_order[o.id]) for o in orders]


#: One order of one user and its items, compiled once: checkout stores this answer inside the order's
#: transaction, so building these two peewee queries was on every checkout's path.
ORDER_COLUMNS: tuple[Any, ...] = (Order.id, Order.order_status, Order.payment_status, Order.subtotal, Order.total,
                                   Order.currency, Order.shipping_address, Order.created_at, Order.expires_at)
ITEM_COLUMNS: tuple[Any, ...] = (OrderItem.product_id, OrderItem.product_name, OrderItem.sku,
                                  OrderItem.quantity, OrderItem.unit_price, OrderItem.line_total)
_OrderRow = namedtuple("_OrderRow", [c.name for c in ORDER_COLUMNS])  # type: ignore[misc]
_ItemRow = namedtuple("_ItemRow", [c.name for c in ITEM_COLUMNS])  # type: ignore[misc]
_MY_ORDER = Statement(database, lambda user_id, order_id: (
    Order.select(*ORDER_COLUMNS).where((Order.id == order_id) & (Order.user_id == user_id))))
_ANY_ORDER = Statement(database, lambda order_id: Order.select(*ORDER_COLUMNS).where(Order.id == order_id))
_ITEMS = Statement(database, lambda order_id: (
    OrderItem.select(*ITEM_COLUMNS).where(OrderItem.order == order_id).order_by(OrderItem.id)))


def placed(order_row: Sequence[Any], item_rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The detail of an order as its inserts returned it (``INSERT ... RETURNING`` :data:`ORDER_COLUMNS`,
    and :data:`ITEM_COLUMNS` in the items' order): what :func:`detail` reads back, without reading it.
    Checkout answers with this inside the order's transaction (two statements fewer, ADR 0015)."""
    order = _OrderRow(*(column.python_value(value) for column, value in zip(ORDER_COLUMNS, order_row, strict=True)))
    return render(order, [_ItemRow(*row) for row in item_rows])


@replica_reads
def detail(user_id: int | None, order_id: int) -> dict[str, Any]:
    """One order; ``user_id`` None means an admin may see any. Someone else's order is a 404."""
    found = _MY_ORDER.rows(user_id, order_id) if user_id is not None else _ANY_ORDER.rows(order_id)
    if not found:
        raise NotFound("No such order.")
    # The driver's values, converted as the models would (SQLite returns times as text).
    order = _OrderRow(*(column.python_value(value) for column, value in zip(ORDER_COLUMNS, found[0], strict=True)))
    return render(order, [_ItemRow(*row) for row in _ITEMS.rows(order_id)])


@replica_reads
def mine(user_id: int, page: PageRequest) -> Page[dict[str, Any]]:
    query = Order.select().where(Order.user_id == user_id)
    if page.cursor:
        query = query.where(Order.id < page.after_id())
    rows = list(query.order_by(Order.id.desc()).limit(page.limit + 1))
    result = Page.from_rows(rows, page.limit, lambda last: {"id": last.id})
    return Page(_with_items(list(result.items)), result.next_cursor)


def _date(value: str | None, field: str) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed("Invalid date.", errors=[FieldError(field, "An ISO 8601 date or time.")]) from None
    if moment.tzinfo is not None:  # stored times are UTC: convert, do not just drop the offset
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def admin_list(status: str | None, since: str | None, until: str | None, page: PageRequest) -> Page[dict[str, Any]]:
    query = Order.select()
    if status is not None:
        if status not in states.STATES:
            allowed = ", ".join(states.STATES)
            raise ValidationFailed("Unknown status.", errors=[FieldError("status", f"One of {allowed}")])
        query = query.where(Order.order_status == status)
    start, end = _date(since, "from"), _date(until, "to")
    if start is not None:
        query = query.where(Order.created_at >= start)
    if end is not None:
        query = query.where(Order.created_at < end)
    if page.cursor:
        query = query.where(Order.id < page.after_id())
    rows = list(query.order_by(Order.id.desc()).limit(page.limit + 1))
    result = Page.from_rows(rows, page.limit, lambda last: {"id": last.id})
    return Page(_with_items(list(result.items)), result.next_cursor)
