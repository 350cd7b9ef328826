"""The purchase model as a pure function of the order events: what a rebuild loads.

The incremental handlers (``purchases``) reach their state through conditional updates, one event at a
time; this module reaches the same state by folding the deduplicated event log in memory, then the
rebuild bulk-loads it. Both follow the same rules — flags only go one way, an order counts when it is
placed and paid and not void — so they must agree row for row; a test holds them to it
(``tests/e2e/test_recommendations_http.py::test_rebuild_from_the_lake_equals_the_incremental_model``).
Why a fold and not the handlers again: one bulk insert per table instead of a dozen statements per
event (ADR 0019 has the figures).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations.purchases import PAID_STATES, VOID_STATES, quantities

#: The events the model is made of (routing keys).
KEYS = (OrderPlaced.key(), OrderStatusChanged.key())


@dataclass
class OrderState:
    user_id: int
    placed: bool = False
    paid: bool = False
    void: bool = False
    placed_at: datetime.datetime | None = None
    lines: dict[int, int] = field(default_factory=dict)  # product id -> quantity

    @property
    def counted(self) -> bool:
        return self.placed and self.paid and not self.void


@dataclass
class Model:
    orders: dict[int, OrderState] = field(default_factory=dict)

    def apply(self, key: str, payload: Mapping[str, Any], occurred_at: datetime.datetime) -> None:
        """One event (each at most once: the caller dedupes by event id)."""
        order_id, user_id = int(payload["order_id"]), int(payload["user_id"])
        order = self.orders.setdefault(order_id, OrderState(user_id))
        if key == OrderPlaced.key():
            order.placed, order.placed_at = True, occurred_at
            if not order.lines:  # the handler inserts lines "on conflict do nothing": the first set wins
                order.lines = quantities(payload.get("lines", []))
        elif key == OrderStatusChanged.key():
            status = payload.get("to_status")
            if status in PAID_STATES:
                order.paid = True
            elif status in VOID_STATES:
                order.void = True

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The model's tables, as rows to insert."""
        orders: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        sales: dict[int, tuple[int, int]] = {}
        pairs: dict[tuple[int, int], int] = {}
        for order_id, order in sorted(self.orders.items()):
            orders.append({"order_id": order_id, "user_id": order.user_id, "placed": order.placed,
                           "paid": order.paid, "void": order.void, "counted": order.counted,
                           "placed_at": order.placed_at})
            lines += [{"order_id": order_id, "product_id": p, "quantity": q} for p, q in sorted(order.lines.items())]
            if not order.counted:
                continue
            for product, quantity in order.lines.items():
                count, units = sales.get(product, (0, 0))
                sales[product] = (count + 1, units + quantity)
                for other in order.lines:
                    if other != product:
                        pairs[(product, other)] = pairs.get((product, other), 0) + 1
        return {
            "orders": orders,
            "lines": lines,
            "sales": [{"product_id": p, "orders": n, "units": u} for p, (n, u) in sorted(sales.items())],
            "pairs": [{"product_id": p, "other_id": o, "orders": n} for (p, o), n in sorted(pairs.items())],
        }


def fold(records: Iterable[tuple[str, Mapping[str, Any], datetime.datetime]]) -> Model:
    model = Model()
    for key, payload, occurred_at in records:
        model.apply(key, payload, occurred_at)
    return model
