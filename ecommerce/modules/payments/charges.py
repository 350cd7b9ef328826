"""Charging an order, and reconciling what the gateway did when it did not say (refunds: ``refunds.py``).

The order decides the amount (``orders.api.payable``); the client only names the order and the card.
At most one live payment per order is enforced by a partial unique index, the gateway call happens
outside any transaction, and every step is written to ``payment_logs`` — without card data.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.modules.orders import api as orders
from ecommerce.modules.payments import card_tokens, cards, refunds, settings
from ecommerce.modules.payments.events import PaymentFailed, PaymentSucceeded
from ecommerce.modules.payments.gateway import APPROVED, GatewayProtocolError, GatewayResult, GatewayTimeout
from ecommerce.modules.payments.models import Payment, database, events
from ecommerce.modules.payments.payment_rows import FAILED, PENDING, SUCCEEDED, live_payment_of, log, view
from ecommerce.modules.payments.vault import CardDataUnreadable


def _settle(payment: Payment, result: GatewayResult) -> Payment:
    """Record the gateway's verdict once (conditional on still being pending) and announce it."""
    status = SUCCEEDED if result.outcome == APPROVED else FAILED
    with database.atomic():
        moved = (
            Payment.update(status=status, authorization_code=result.authorization_code,
                           response_code=result.response_code, response_message=result.response_message,
                           updated_at=utcnow())
            .where((Payment.id == payment.id) & (Payment.status == PENDING))
            .execute()
        )
        if moved == 1:
            log(payment.id, status, f"{result.response_code}: {result.response_message}")
            if status == SUCCEEDED:
                events.publish(PaymentSucceeded(payment_id=payment.id, order_id=payment.order_id,
                                                user_id=payment.user_id, amount=payment.amount,
                                                currency=payment.currency))
            else:
                events.publish(PaymentFailed(payment_id=payment.id, order_id=payment.order_id,
                                             user_id=payment.user_id, reason=result.response_code))
    return Payment.get_by_id(payment.id)


def _refund_if_order_gone(payment: Payment) -> Payment:
    """Money captured for an order that expired or was cancelled meanwhile (e.g. a timeout settled by
    reconciliation an hour later) goes straight back, so the answer already says so. The same check runs
    again, durably, when payments handles its own ``PaymentSucceeded`` (a crash right here loses nothing)."""
    if payment.status == SUCCEEDED:
        refunds.refund_if_order_closed(payment.id)
    return Payment.get_by_id(payment.id)


def charge(user_id: int, order_id: Any, token_value: Any, cvc: Any = None) -> dict[str, Any]:
    if not isinstance(order_id, int) or not isinstance(token_value, str):
        raise ValidationFailed("Name an order and a card.", errors=[FieldError("order_id", "Required")])
    payable = orders.payable(user_id, order_id)  # 404 if it is not the caller's
    if not payable.can_be_paid:
        raise Conflict(f"Order {order_id} is {payable.order_status}; only a pending_payment order can be paid.")
    if payable.amount < 1:  # an order made before prices had to be positive: nothing a card could pay
        raise Conflict(f"Order {order_id} has a total of {payable.amount} {payable.currency}: there is nothing "
                       "to pay. Cancel it.")
    token = card_tokens.owned(user_id, token_value)
    if token.expiry < utcnow():  # the end of its expiry month has passed: a processor would decline it
        raise Conflict(f"The card ending {token.last4} expired ({token.exp_month:02d}/{token.exp_year}); "
                       "save a current card.")
    if cvc is not None:
        cards.check_cvc(cvc, token.brand)
    now = utcnow()
    try:
        with database.atomic():
            payment = Payment.create(
                order_id=order_id, user_id=user_id, amount=payable.amount, currency=payable.currency,
                status=PENDING, reference_id="pay_" + uuid.uuid4().hex, token=token.id, created_at=now,
                updated_at=now,
            )
            log(payment.id, "created", f"charge of {payable.amount} {payable.currency} for order {order_id}, "
                                       f"{token.brand} ending {token.last4}")
    except IntegrityError:
        if live_payment_of(order_id) is None:  # not the one-live-payment index: a bug to see, not a "you already paid"
            raise
        raise Conflict(f"Order {order_id} already has a payment that succeeded or is in progress.") from None
    cfg = settings.get()
    try:
        number = cfg.vault.open(token.key_id, token.encrypted_number, token.value, token.user_id)
    except CardDataUnreadable as exc:
        log(payment.id, "vault", exc.detail)
        return view(_settle(payment, GatewayResult("declined", "card_unreadable", exc.detail)))
    log(payment.id, "authorize", f"request sent to the gateway as {payment.reference_id}")
    try:
        result = cfg.gateway.authorize(payment.reference_id, payment.amount, payment.currency, number, cvc)
    except (GatewayTimeout, GatewayProtocolError) as exc:
        # Unknown outcome: never mark it paid (or failed) on a guess. Reconciliation will ask.
        log(payment.id, "unknown", f"{type(exc).__name__}: {exc}; left pending for reconciliation")
        return view(Payment.get_by_id(payment.id))
    finally:
        number = ""  # drop our only plaintext reference as soon as possible
    return view(_refund_if_order_gone(_settle(payment, result)))


def get(user_id: int, payment_id: int) -> dict[str, Any]:
    payment = Payment.get_or_none((Payment.id == payment_id) & (Payment.user_id == user_id))
    if payment is None:
        raise NotFound("No such payment.")
    return view(payment)


def reconcile(older_than: datetime.timedelta = datetime.timedelta(seconds=0)) -> dict[str, int]:
    """Ask the gateway about payments left pending (timeouts, garbage answers) and settle them."""
    done = {"succeeded": 0, "failed": 0}
    cutoff = utcnow() - older_than
    for payment in Payment.select().where((Payment.status == PENDING) & (Payment.created_at <= cutoff)):
        result = settings.get().gateway.lookup(payment.reference_id)
        if result is None:
            result = GatewayResult("declined", "not_charged", "The processor has no record of this charge.")
        log(payment.id, "reconcile", f"gateway says {result.outcome} ({result.response_code})")
        settled = _refund_if_order_gone(_settle(payment, result))
        done["succeeded" if settled.status == SUCCEEDED else "failed"] += 1
    return done
