"""Cart and orders: a live-priced cart, idempotent checkout, the order state machine, expiry."""

from __future__ import annotations

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.orders import cart, transitions
from ecommerce.modules.orders.models import idempotency

module = Module.of(
    __name__,
    description="Cart, checkout, the order state machine, expiry and idle carts",
    requires=("users", "catalog"),
    jobs=[
        Job("expire-unpaid-orders", 30.0, transitions.expire_due),
        Job("purge-idempotency-keys", 3600.0, idempotency.purge_expired),
        Job("purge-idle-carts", 3600.0, cart.purge_idle),
    ],
)
