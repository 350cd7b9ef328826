"""Integration events the orders module publishes."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class OrderPlaced(IntegrationEvent):
    name = "orders.OrderPlaced"
    version = 1

    order_id: int
    user_id: int
    total: int
    currency: str
    lines: list[dict[str, int]]  # [{"product_id", "quantity", "unit_price"}]


@dataclass(frozen=True)
class OrderStatusChanged(IntegrationEvent):
    """Every transition after placement: paid, fulfilled, shipped, delivered, cancelled, expired, refunded."""

    name = "orders.OrderStatusChanged"
    version = 1

    order_id: int
    user_id: int
    from_status: str
    to_status: str
    refund_requested: bool = False  # a paid order was cancelled: payments should refund it
