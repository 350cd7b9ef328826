"""The integration events a generated order would have published, for the data lake.

``ecommerce seed --scale N`` writes orders straight into the tables, so no outbox row and no relay ever
sees them. So that the lake (and the recommendations rebuilt from it, and any analytics) knows them,
the generator also writes, straight into the lake's JSON lines, the events the live flow publishes for
an order in that state — same names, versions, envelope and payload shapes:

- ``orders.OrderPlaced`` when it was created;
- on payment ``payments.PaymentSucceeded`` and ``orders.OrderStatusChanged`` pending_payment -> paid, then
  one status change per later step (fulfilled, shipped, delivered), spread until its last update;
- cancelled / expired: one status change from pending_payment; refunded: paid, fulfilled, then
  ``payments.PaymentRefunded`` (in full) and the change to refunded.

Event ids are UUIDs derived from the order id and the step (the same scale writes the same events), and
the payment id is the order id (the generator writes no payment rows).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from ecommerce.kernel.events.lake import LakeRecord
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.payments.events import PaymentRefunded, PaymentSucceeded

NAMESPACE = uuid.UUID("6f0d5e0c-3c1b-4c53-9d0e-2b8f5d7a1c42")
#: final status -> the steps after placement that got it there
PATHS = {
    "pending_payment": [], "cancelled": ["cancelled"], "expired": ["expired"], "paid": ["paid"],
    "fulfilled": ["paid", "fulfilled"], "shipped": ["paid", "fulfilled", "shipped"],
    "delivered": ["paid", "fulfilled", "shipped", "delivered"], "refunded": ["paid", "fulfilled", "refunded"],
}


def order_events(order_id: int, user_id: int, status: str, total: int, currency: str,
                 lines: list[dict[str, int]], created: datetime.datetime,
                 updated: datetime.datetime) -> list[LakeRecord]:
    """The events of one generated order, oldest first."""
    def event(step: str, name: str, source: str, at: datetime.datetime, payload: dict[str, Any]) -> LakeRecord:
        event_id = str(uuid.uuid5(NAMESPACE, f"{order_id}:{step}"))
        return LakeRecord(event_id, name, 1, at, source, payload)

    out = [event("placed", OrderPlaced.name, "orders", created,
                 {"order_id": order_id, "user_id": user_id, "total": total, "currency": currency, "lines": lines})]
    steps = PATHS[status]
    previous = "pending_payment"
    for n, step in enumerate(steps, start=1):
        at = created + (updated - created) * n / (len(steps) + 1)
        if step == "paid":
            out.append(event("payment", PaymentSucceeded.name, "payments", at,
                             {"payment_id": order_id, "order_id": order_id, "user_id": user_id, "amount": total,
                              "currency": currency}))
        if step == "refunded":
            out.append(event("refund", PaymentRefunded.name, "payments", at,
                             {"payment_id": order_id, "order_id": order_id, "user_id": user_id, "amount": total,
                              "currency": currency, "fully_refunded": True}))
        out.append(event(step, OrderStatusChanged.name, "orders", at,
                         {"order_id": order_id, "user_id": user_id, "from_status": previous, "to_status": step,
                          "refund_requested": False}))
        previous = step
    return out
