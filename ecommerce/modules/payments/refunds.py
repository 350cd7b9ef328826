"""Giving money back: at most what was captured, once per reference, and never lost on the way.

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
from typing import Any

from peewee import IntegrityError, fn

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.modules.payments import config
from ecommerce.modules.payments.events import PaymentRefunded
from ecommerce.modules.payments.gateway import APPROVED, GatewayProtocolError, GatewayResult, GatewayTimeout
from ecommerce.modules.payments.models import Payment, Refund, database, events
from ecommerce.modules.payments.records import FAILED, PENDING, SUCCEEDED, log, view


def reserve(user_id: int | None, payment_id: int, amount: Any = None, reference: str | None = None) -> Refund:
    """Validate and reserve the amount with a ``pending`` refund row; nothing is sent yet."""
    query = Payment.select().where(Payment.id == payment_id)
    if user_id is not None:
        query = query.where(Payment.user_id == user_id)
    payment = query.first()
    if payment is None:
        raise NotFound("No such payment.")
    if payment.status != SUCCEEDED:
        raise Conflict(f"Payment {payment_id} is {payment.status}; only a succeeded payment can be refunded.")
    remaining = payment.amount - payment.refunded_amount
    value = remaining if amount is None else amount
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationFailed("Invalid amount.", errors=[FieldError("amount", "A positive amount in minor units.")])
    reference = reference or f"refund_{uuid.uuid4().hex}"
    with database.atomic():
        reserved = (
            Payment.update(refunded_amount=Payment.refunded_amount + value, updated_at=utcnow())
            .where((Payment.id == payment_id) & (Payment.refunded_amount + value <= Payment.amount))
            .execute()
        )
        if reserved != 1:
            raise Conflict(f"At most {remaining} {payment.currency} can still be refunded.")
        try:
            with database.atomic():
                row = Refund.create(payment=payment_id, amount=value, reference=reference, status=PENDING,
                                    created_at=utcnow(), updated_at=utcnow())
        except IntegrityError:
            raise Conflict("This refund was already made.") from None
        log(payment_id, "refund", f"refund of {value} {payment.currency} requested ({reference})")
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
        result = config.get().gateway.refund(payment.reference_id, row.reference, row.amount)
    except (GatewayTimeout, GatewayProtocolError) as exc:
        log(row.payment_id, "refund", f"refund {row.reference}: {type(exc).__name__}: {exc}; left pending")
        Refund.update(updated_at=utcnow()).where(Refund.id == row.id).execute()
        return PENDING
    return _settle(row, result)


def refund_with_status(user_id: int | None, payment_id: int, amount: Any = None,
                       reference: str | None = None) -> tuple[dict[str, Any], str]:
    """The payment after the refund, and the refund's status: ``succeeded``, or ``pending`` when the
    gateway's answer was lost (reconciliation finishes it). A refusal is a 409."""
    row = reserve(user_id, payment_id, amount, reference)
    status = _send(row)
    if status == FAILED:
        raise Conflict("The processor refused the refund.")
    return view(Payment.get_by_id(payment_id)), status


def refund(user_id: int | None, payment_id: int, amount: Any = None, reference: str | None = None) -> dict[str, Any]:
    """Give money back, at most what was captured; ``user_id`` None is the system (a cancelled order)."""
    return refund_with_status(user_id, payment_id, amount, reference)[0]


def refund_cancelled_order(order_id: int) -> None:
    """OrderStatusChanged(cancelled, refund_requested): refund whatever is left, once (fixed reference)."""
    payment = Payment.get_or_none((Payment.order_id == order_id) & (Payment.status == SUCCEEDED))
    if payment is None or payment.refunded_amount >= payment.amount:
        return
    with contextlib.suppress(Conflict):  # already refunded under this reference, or nothing left
        refund(None, payment.id, reference=f"order-cancelled-{order_id}")


def reconcile(older_than: datetime.timedelta = datetime.timedelta(seconds=0)) -> dict[str, int]:
    """Finish refunds left ``pending`` (a lost answer, a crash before sending): ask the gateway, and send
    again what it never saw. Safe to run in several workers at once."""
    done = {SUCCEEDED: 0, FAILED: 0, PENDING: 0}
    cutoff = utcnow() - older_than
    # The last attempt's time, not the creation's: a refund that timed out again waits another period.
    last_attempt = fn.COALESCE(Refund.updated_at, Refund.created_at)
    for row in Refund.select().where((Refund.status == PENDING) & (last_attempt <= cutoff)).order_by(Refund.id):
        known = config.get().gateway.lookup_refund(row.reference)
        if known is None:
            log(row.payment_id, "reconcile", f"refund {row.reference} unknown to the gateway: sending it again")
            done[_send(row)] += 1
        else:
            log(row.payment_id, "reconcile", f"gateway says refund {row.reference} {known.outcome}")
            done[_settle(row, known)] += 1
    return done
