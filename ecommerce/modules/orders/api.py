"""The orders module's public facade: payments uses it to know what to charge, and what an order's state
means for a refund (the refund policy itself lives in ``payments.refunds``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.kernel.idempotency import StoredResponse, taken_over
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.orders import cart, queries, states, transitions
from ecommerce.modules.orders.checkout import checkout as place_order
from ecommerce.modules.orders.models import Order, idempotency

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
        order = transitions.transition(order_id, states.CANCELLED, refund_requested=True, expected=states.PAID)
    except Conflict:
        return False
    transitions.release_stock(order)
    return True


# --- what a storefront shows and does (the use cases of the JSON routes, as plain calls) -------------
#: the happy path an order walks, for a status timeline
HAPPY_PATH = (states.PENDING, states.PAID, states.FULFILLED, states.SHIPPED, states.DELIVERED)


def cart_view(user_id: int) -> dict[str, Any]:
    """The cart priced live: items with line totals, subtotal, currency."""
    return cart.view(user_id)


def cart_add(user_id: int, product_id: int, quantity: int) -> dict[str, Any]:
    return cart.add(user_id, product_id, quantity)


def cart_set(user_id: int, product_id: int, quantity: int) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); the cart priced live."""
    return cart.remove(user_id, product_id) if quantity == 0 else cart.set_quantity(user_id, product_id, quantity)


def checkout(user_id: int, address_id: int, idempotency_key: str) -> int | None:
    """Place an order from the cart, once per key: a repeat with the same key returns the first order's
    id; ``None`` while the first request with this key is still running (ask again shortly).
    Raises what ``POST /orders`` raises (empty cart, stock, address)."""
    scope = f"form:{user_id}"  # the API's keys are scoped by user id alone: a form key never replays a JSON answer
    fingerprint = hashlib.sha256(f"checkout {address_id}".encode()).hexdigest()
    try:
        stored = idempotency.claim(scope, idempotency_key, fingerprint)
    except Conflict:
        return None
    if isinstance(stored, StoredResponse):
        if stored.status >= 400:
            raise Conflict(str(stored.body.get("detail") if isinstance(stored.body, dict) else stored.body))
        return int(stored.body["id"])
    placed: list[int] = []

    def respond(order_id: int) -> None:
        if not idempotency.finish(scope, idempotency_key, 201, {"id": order_id}, stored):
            raise taken_over()  # inside the order's transaction: undone, the retry that took the key orders
        placed.append(order_id)

    try:
        place_order(user_id, address_id, within=respond)
    except BaseException:
        idempotency.release(scope, idempotency_key, stored)  # nothing was placed: the form may be sent again
        raise
    return placed[0]


def order(user_id: int | None, order_id: int) -> dict[str, Any]:
    """One order with its lines (``user_id`` None: any user's, for an admin); 404 otherwise."""
    return queries.detail(user_id, order_id)


def orders_of(user_id: int, page: PageRequest) -> Page[dict[str, Any]]:
    """The user's orders, newest first."""
    return queries.mine(user_id, page)


def all_orders(page: PageRequest, status: str | None = None) -> Page[dict[str, Any]]:
    """Every order (admin), optionally in one state."""
    return queries.admin_list(status, None, None, page)


def cancel(user_id: int, order_id: int) -> None:
    """The customer cancels (a paid order is refunded by payments); 409 where the policy forbids it."""
    transitions.cancel(user_id, order_id)


def customer_can_cancel(order_status: str) -> bool:
    return order_status in states.CUSTOMER_CANCELLABLE


def admin_moves(order_status: str) -> list[str]:
    """The states an admin may move an order in ``order_status`` to, in the machine's order."""
    allowed = states.TRANSITIONS.get(order_status, frozenset()) & states.ADMIN_TARGETS
    return [s for s in states.STATES if s in allowed]


def admin_move(order_id: int, target: str) -> None:
    """Move an order along the state machine (admin); 409 for a move it does not allow."""
    transitions.admin_transition(order_id, target)
