"""The payment rows charges and refunds share: the status words, the order's live payment, the payment log
and the public view of a payment."""

from __future__ import annotations

from typing import Any

from peewee import SQL, Expression, ModelSelect

from ecommerce.kernel.clock import isoformat, utcnow
from ecommerce.modules.payments.models import Payment, PaymentLog

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
#: The predicate of the partial unique index ``payment_one_live_per_order``, spelled as in the migration:
#: SQLite uses a partial index only when the query repeats its predicate (literals, not parameters), and
#: "the order's live payment" runs for every order that expires, so it must not scan the payments.
LIVE = SQL("status IN ('pending', 'succeeded')")


def live_payments(order_id: int, status: str | None = None) -> ModelSelect[Payment]:
    """The query for the order's pending or succeeded payment (at most one), through the partial index."""
    where: Expression = (Payment.order_id == order_id) & LIVE
    if status is not None:
        where = where & (Payment.status == status)
    return Payment.select().where(where)


def live_payment_of(order_id: int, status: str | None = None) -> Payment | None:
    found: Payment | None = live_payments(order_id, status).first()
    return found


def log(payment_id: int, step: str, message: str) -> None:
    """One line of the payment's trail (never card data: callers pass brand and last4 at most)."""
    PaymentLog.create(payment=payment_id, step=step, log_message=message, created_at=utcnow())


def view(payment: Payment) -> dict[str, Any]:
    return {"id": payment.id, "order_id": payment.order_id, "amount": payment.amount, "currency": payment.currency,
            "status": payment.status, "refunded_amount": payment.refunded_amount,
            "response_code": payment.response_code, "response_message": payment.response_message,
            "created_at": isoformat(payment.created_at)}
