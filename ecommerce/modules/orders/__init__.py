"""Cart and orders: a live-priced cart, idempotent checkout, the order state machine, expiry."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.orders import settings, transitions
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.orders.models import MODELS, database, events, idempotency
from ecommerce.modules.orders.reactions import SUBSCRIPTIONS

module = Module(
    name="orders",
    description="Cart, checkout, the order state machine and expiry",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.orders.http:build_blueprint",
    publishes=[OrderPlaced, OrderStatusChanged],
    subscriptions=SUBSCRIPTIONS,
    requires=("users", "catalog"),
    jobs=[
        Job("expire-unpaid-orders", 30.0, transitions.expire_due),
        Job("purge-idempotency-keys", 3600.0, idempotency.purge_expired),
    ],
    cli="ecommerce.modules.orders.cli:add_commands",
    settings=settings.OrdersSettings,
    setup=settings.setup,
)
