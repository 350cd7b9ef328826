"""Giving money back: who may, when, how much — and at most what was captured, once per reference.

**The policy, written only here** (``decide``), from the order's state as ``orders.api`` describes it:

- **before fulfilment** (the order is ``paid``) a refund is a cancellation: always the whole remainder, and
  the order is cancelled first (its stock comes back). The customer or the shop may ask; a part is refused,
  because a paid order with part of its money returned would still be shipped;
- **after fulfilment** (``fulfilled``, ``shipped``, ``delivered``) only the shop refunds (an admin, on
  ``/admin/payments/{id}/refunds``), any part of what is left; a full refund ends the order ``refunded``;
- **an order that ended unfulfilled** (``cancelled``, ``expired``) gets its money back automatically (the
  system); the shop may refund what an automatic refund could not;
- otherwise (the payment is not recorded on the order yet, or nothing is left) nothing is refunded.

A refund is reserved first (a conditional update on ``refunded_amount`` plus a ``pending`` row, in one
transaction), then sent to the gateway outside the transaction under the refund's own reference. If the
answer is lost (timeout, crash), the row stays ``pending``; ``reconcile`` asks the gateway about it later
and, if the gateway never saw it, sends it again — safe, because the gateway refunds a reference once.
Whoever settles a refund does so with a conditional update from ``pending``, so ``PaymentRefunded`` is
published once even when a request and a reconciliation race.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError, fn

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.modules.orders import api as orders
from ecommerce.modules.payments import settings
from ecommerce.modules.payments.events import PaymentRefunded
from ecommerce.modules.payments.gateway import APPROVED, GatewayProtocolError, GatewayResult, GatewayTimeout
from ecommerce.modules.payments.models import Payment, Refund, database, events
from ecommerce.modules.payments.payment_rows import FAILED, PENDING, SUCCEEDED, live_payment_of, log, view

CUSTOMER, SHOP, SYSTEM_ROLE = "customer", "shop", "system"


@dataclass(frozen=True)
class Refunder:
    """Who asks: a ``customer`` (their own payments only), the ``shop`` (an admin) or the ``system``
    (automatic refunds of orders that will never ship)."""

    role: str
    user_id: int | None = None

    def __str__(self) -> str:
        if self.role == CUSTOMER:
            return "by the customer"
        return "automatically" if self.role == SYSTEM_ROLE else f"by the shop (admin {self.user_id})"


SYSTEM = Refunder(SYSTEM_ROLE)


def customer(user_id: int) -> Refunder:
    return Refunder(CUSTOMER, user_id)


def shop(admin_id: int | None) -> Refunder:
    return Refunder(SHOP, admin_id)


@dataclass(frozen=True)
class Decision:
    amount: int
    cancels_order: bool  # before fulfilment: the order is cancelled first


def decide(who: Refunder, order: orders.Payable, remaining: int, amount: int | None) -> Decision:
    """The refund policy (see the module docstring): what ``who`` may refund now, or a 409 saying why not."""
    oid, state = order.order_id, order.order_status
    value = remaining if amount is None else amount
    if order.refund_cancels:
        if who.role == SYSTEM_ROLE:
            raise Conflict(f"Order {oid} is {state}: it is refunded by cancelling it.")
        if value != remaining:
            raise Conflict(f"Order {oid} is not fulfilled yet: a refund now is the whole {remaining} "
                           f"{order.currency} and cancels the order (send no amount, or {remaining}).")
        return Decision(value, cancels_order=True)
    if order.fulfilment_started:
        if who.role != SHOP:
            raise Conflict(f"Order {oid} is {state}: after fulfilment only the shop refunds; please contact us.")
        return Decision(value, cancels_order=False)
    if order.closed_unfulfilled:
        if who.role == CUSTOMER:
            raise Conflict(f"Order {oid} is {state}: its payment is refunded automatically.")
        return Decision(value, cancels_order=False)
    raise Conflict(f"Order {oid} is {state}: there is nothing to refund now.")


def _payment(who: Refunder, payment_id: int) -> Payment:
    query = Payment.select().where(Payment.id == payment_id)
    if who.role == CUSTOMER:
        query = query.where(Payment.user_id == who.user_id)
    payment = query.first()
    if payment is None:
        raise NotFound("No such payment.")
    if payment.status != SUCCEEDED:
        raise Conflict(f"Payment {payment_id} is {payment.status}; only a succeeded payment can be refunded.")
    return payment


def _order_cancelled_reference(order_id: int) -> str:
    return f"order-cancelled-{order_id}"


def reserve(who: Refunder, payment_id: int, amount: Any = None, reference: str | None = None) -> Refund:
    """Apply the policy, then reserve the amount with a ``pending`` refund row; nothing is sent yet.

    Before fulfilment the order is cancelled first, and the refund takes the cancellation's fixed
    reference: the automatic refund that the cancellation triggers is then this very refund, not a second.
    Returns the existing row when that refund was already made (the automatic one got there first)."""
    payment = _payment(who, payment_id)
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount < 1):
        raise ValidationFailed("Invalid amount.", errors=[FieldError("amount", "A positive amount in minor units.")])
    remaining = payment.amount - payment.refunded_amount
    order = orders.payable(payment.user_id, payment.order_id)
    decision = decide(who, order, remaining, amount)
    if decision.cancels_order:
        if not orders.cancel_for_refund(order.order_id):  # fulfilled meanwhile: decide again from there
            decide(who, orders.payable(payment.user_id, payment.order_id), remaining, amount)
            raise Conflict(f"Order {order.order_id} changed meanwhile; nothing was refunded. Try again.")
        reference = _order_cancelled_reference(order.order_id)
        log(payment_id, "refund", f"order {order.order_id} cancelled for a refund requested {who}")
    if remaining < 1:
        raise Conflict(f"Payment {payment_id} is already fully refunded.")
    try:
        return _reserve(payment, decision.amount, reference or f"refund_{uuid.uuid4().hex}", who)
    except Conflict:
        existing = Refund.get_or_none(Refund.reference == reference) if decision.cancels_order else None
        if existing is None:
            raise
        return existing


def _reserve(payment: Payment, value: int, reference: str, who: Refunder) -> Refund:
    with database.atomic():
        reserved = (
            Payment.update(refunded_amount=Payment.refunded_amount + value, updated_at=utcnow())
            .where((Payment.id == payment.id) & (Payment.refunded_amount + value <= Payment.amount))
            .execute()
        )
        if reserved != 1:
            left = Payment.get_by_id(payment.id)
            raise Conflict(f"At most {left.amount - left.refunded_amount} {payment.currency} can still be refunded.")
        try:
            with database.atomic():
                row = Refund.create(payment=payment.id, amount=value, reference=reference, status=PENDING,
                                    created_at=utcnow(), updated_at=utcnow())
        except IntegrityError:
            raise Conflict("This refund was already made.") from None
        log(payment.id, "refund", f"refund of {value} {payment.currency} requested {who} ({reference})")
    return row


def _settle(row: Refund, result: GatewayResult) -> str:
    """Record the gateway's verdict once (conditional on still pending); returns the refund's status."""
    status = SUCCEEDED if result.outcome == APPROVED else FAILED
    with database.atomic():
        moved = (Refund.update(status=status, updated_at=utcnow())
                 .where((Refund.id == row.id) & (Refund.status == PENDING)).execute())
        if moved != 1:  # someone else settled it first: their verdict stands
            return str(Refund.get_by_id(row.id).status)
        if status == FAILED:  # give the room back, keep the refused attempt on record
            Payment.update(refunded_amount=Payment.refunded_amount - row.amount).where(
                Payment.id == row.payment_id).execute()
            log(row.payment_id, "refund", f"refund {row.reference} refused: {result.response_message}")
            return status
        payment = Payment.get_by_id(row.payment_id)
        log(row.payment_id, "refund", f"refund {row.reference} done")
        events.publish(PaymentRefunded(payment_id=payment.id, order_id=payment.order_id, user_id=payment.user_id,
                                       amount=row.amount, currency=payment.currency,
                                       fully_refunded=payment.refunded_amount == payment.amount))
    return status


def _send(row: Refund) -> str:
    """Send (or re-send) the refund under its own reference; an unknown outcome leaves it pending."""
    payment = Payment.get_by_id(row.payment_id)
    try:
        result = settings.get().gateway.refund(payment.reference_id, row.reference, row.amount)
    except (GatewayTimeout, GatewayProtocolError) as exc:
        log(row.payment_id, "refund", f"refund {row.reference}: {type(exc).__name__}: {exc}; left pending")
        Refund.update(updated_at=utcnow()).where(Refund.id == row.id).execute()
        return PENDING
    return _settle(row, result)


def refund_with_status(who: Refunder, payment_id: int, amount: Any = None,
                       reference: str | None = None) -> tuple[dict[str, Any], str]:
    """The payment after the refund, and the refund's status: ``succeeded``, or ``pending`` when the
    gateway's answer was lost (reconciliation finishes it). A refusal is a 409."""
    row = reserve(who, payment_id, amount, reference)
    status = _send(row) if row.status == PENDING else str(row.status)
    if status == FAILED:
        raise Conflict("The processor refused the refund.")
    return view(Payment.get_by_id(payment_id)), status


def refund(who: Refunder, payment_id: int, amount: Any = None, reference: str | None = None) -> dict[str, Any]:
    """Give money back under the policy, at most what was captured."""
    return refund_with_status(who, payment_id, amount, reference)[0]


def _refund_rest(payment: Payment, reference: str) -> None:
    """The system refunds whatever is left, once: the fixed reference makes a second run a no-op."""
    if payment.refunded_amount >= payment.amount:
        return
    with contextlib.suppress(Conflict):  # already refunded under this reference, nothing left, or refused
        refund(SYSTEM, payment.id, reference=reference)


def refund_closed_order(order_id: int, was_paid: bool) -> None:
    """OrderStatusChanged to ``cancelled`` or ``expired``: the money captured for the order goes back.

    A paid order that was cancelled (``refund_requested``) is refunded under ``order-cancelled-<order>``,
    the reference a refund before fulfilment also uses. A payment that succeeded while the order was
    still unpaid, and that the order never took (it expired or was cancelled before orders handled the
    payment), is refunded under ``late-payment-<payment>``, like the check made when it settled."""
    payment = live_payment_of(order_id, SUCCEEDED)
    if payment is None:
        return
    if not was_paid:
        log(payment.id, "late", f"order {order_id} ended unpaid after this payment: refunding it")
    _refund_rest(payment, _order_cancelled_reference(order_id) if was_paid else f"late-payment-{payment.id}")


def refund_if_order_closed(payment_id: int) -> None:
    """A payment just settled ``succeeded`` (charge, reconciliation, or its own event): if its order has
    meanwhile expired or been cancelled, the money goes straight back (``late-payment-<payment>``).

    Together with ``refund_closed_order`` this leaves no gap: the order's move and the payment's
    settlement are each followed by a durable event whose handler looks at the other side, so whichever
    commits last is seen."""
    payment = Payment.get_by_id(payment_id)
    if payment.status != SUCCEEDED or payment.refunded_amount >= payment.amount:
        return
    order = orders.payable(payment.user_id, payment.order_id)
    if order.closed_unfulfilled:
        log(payment.id, "late", f"order {payment.order_id} is {order.order_status}: refunding the late payment")
        _refund_rest(payment, f"late-payment-{payment.id}")


def reconcile(older_than: datetime.timedelta = datetime.timedelta(seconds=0)) -> dict[str, int]:
    """Finish refunds left ``pending`` (a lost answer, a crash before sending): ask the gateway, and send
    again what it never saw. Safe to run in several workers at once."""
    done = {SUCCEEDED: 0, FAILED: 0, PENDING: 0}
    cutoff = utcnow() - older_than
    # The last attempt's time, not the creation's: a refund that timed out again waits another period.
    last_attempt = fn.COALESCE(Refund.updated_at, Refund.created_at)
    for row in Refund.select().where((Refund.status == PENDING) & (last_attempt <= cutoff)).order_by(Refund.id):
        known = settings.get().gateway.lookup_refund(row.reference)
        if known is None:
            log(row.payment_id, "reconcile", f"refund {row.reference} unknown to the gateway: sending it again")
            done[_send(row)] += 1
        else:
            log(row.payment_id, "reconcile", f"gateway says refund {row.reference} {known.outcome}")
            done[_settle(row, known)] += 1
    return done
