"""The orders module's public facade (payments uses it to know what to charge)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.errors import NotFound
from ecommerce.modules.orders import states
from ecommerce.modules.orders.models import Order


@dataclass(frozen=True)
class Payable:
    """What payments may charge for an order: the amount always comes from here, never from a client."""

    order_id: int
    user_id: int
    amount: int
    currency: str
    order_status: str
    payment_status: str

    @property
    def can_be_paid(self) -> bool:
        return self.order_status == states.PENDING


def payable(user_id: int, order_id: int) -> Payable:
    """The order of ``user_id`` with its amount; 404 if it is someone else's or does not exist."""
    order = Order.get_or_none((Order.id == order_id) & (Order.user_id == user_id))
    if order is None:
        raise NotFound("No such order.")
    return Payable(order.id, order.user_id, order.total, order.currency, order.order_status, order.payment_status)
