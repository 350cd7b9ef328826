"""The orders module's public facade: payments uses it to know what to charge, and what an order's state
means for a refund (the refund policy itself lives in ``payments.refunds``)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.modules.orders import lifecycle, states
from ecommerce.modules.orders.models import Order

#: the states an order ends in without having been fulfilled: money captured for it goes back
CLOSED_UNFULFILLED = states.CLOSED_UNFULFILLED


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

    @property
    def refund_cancels(self) -> bool:
        """Paid and not fulfilled yet: a refund now is a cancellation (everything back, stock included)."""
        return self.order_status == states.PAID

    @property
    def fulfilment_started(self) -> bool:
        """Fulfilled, shipped or delivered: the goods have left; only the shop decides a refund."""
        return self.order_status in states.AFTER_FULFILMENT

    @property
    def closed_unfulfilled(self) -> bool:
        """Cancelled or expired: the order will never ship, whatever was captured for it goes back."""
        return self.order_status in states.CLOSED_UNFULFILLED


def payable(user_id: int, order_id: int) -> Payable:
    """The order of ``user_id`` with its amount; 404 if it is someone else's or does not exist."""
    order = Order.get_or_none((Order.id == order_id) & (Order.user_id == user_id))
    if order is None:
        raise NotFound("No such order.")
    return Payable(order.id, order.user_id, order.total, order.currency, order.order_status, order.payment_status)


def cancel_for_refund(order_id: int) -> bool:
    """A refund before fulfilment: move a ``paid`` order to ``cancelled`` (``refund_requested``) and give
    its stock back. False, changing nothing, when the order is no longer ``paid`` (fulfilled meanwhile):
    the move is conditional, so a refund and a fulfilment racing each other cannot both win."""
    try:
        order = lifecycle.transition(order_id, states.CANCELLED, refund_requested=True, expected=states.PAID)
    except Conflict:
        return False
    lifecycle.release_stock(order)
    return True
