"""Payments: the card vault (tokenization), charges through a gateway adapter, logs, refunds."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.payments import charges, refunds, settings
from ecommerce.modules.payments.events import PaymentFailed, PaymentRefunded, PaymentSucceeded
from ecommerce.modules.payments.models import MODELS, database, events, idempotency
from ecommerce.modules.payments.reactions import SUBSCRIPTIONS


def _reconcile_stale() -> object:
    """Payments and refunds whose gateway answer was lost, once they are surely not in flight any more."""
    import datetime

    settled = datetime.timedelta(minutes=2)
    return charges.reconcile(older_than=settled), refunds.reconcile(older_than=settled)


module = Module(
    name="payments",
    description="Card vault, charges through a gateway adapter, payment logs, refunds",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.payments.http:build_blueprint",
    publishes=[PaymentSucceeded, PaymentFailed, PaymentRefunded],
    subscriptions=SUBSCRIPTIONS,
    requires=("orders",),
    jobs=[
        Job("reconcile-pending-payments", 60.0, _reconcile_stale),
        Job("purge-idempotency-keys", 3600.0, idempotency.purge_expired),
    ],
    cli="ecommerce.modules.payments.cli:add_commands",
    settings=settings.PaymentsSettings,
    setup=settings.setup,
)
