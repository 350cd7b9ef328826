"""Payments: the card vault (tokenization), charges through a gateway adapter, logs, refunds."""

from __future__ import annotations

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.payments import charges, refunds
from ecommerce.modules.payments.models import idempotency


def _reconcile_stale() -> object:
    """Payments and refunds whose gateway answer was lost, once they are surely not in flight any more."""
    import datetime

    settled = datetime.timedelta(minutes=2)
    return charges.reconcile(older_than=settled), refunds.reconcile(older_than=settled)


module = Module.of(
    __name__,
    description="Card vault, charges through a gateway adapter, payment logs, refunds",
    requires=("orders",),
    jobs=[
        Job("reconcile-pending-payments", 60.0, _reconcile_stale),
        Job("purge-idempotency-keys", 3600.0, idempotency.purge_expired),
    ],
)
