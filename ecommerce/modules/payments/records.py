"""What charges and refunds share: the status words, the payment log and the public view of a payment."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.clock import isoformat, utcnow
from ecommerce.modules.payments.models import Payment, PaymentLog

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


def log(payment_id: int, step: str, message: str) -> None:
    """One line of the payment's trail (never card data: callers pass brand and last4 at most)."""
    PaymentLog.create(payment=payment_id, step=step, log_message=message, created_at=utcnow())


def view(payment: Payment) -> dict[str, Any]:
    return {"id": payment.id, "order_id": payment.order_id, "amount": payment.amount, "currency": payment.currency,
            "status": payment.status, "refunded_amount": payment.refunded_amount,
            "response_code": payment.response_code, "response_message": payment.response_message,
            "created_at": isoformat(payment.created_at)}
