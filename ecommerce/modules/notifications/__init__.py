"""Notifications: emails to customers, a read model built from users, orders and payments events,
kept in a document store (Redis when configured, else the module's own SQL database)."""

from __future__ import annotations

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.notifications import delivery

module = Module.of(
    __name__,
    description="Customer emails (SMTP or a mailbox folder), a document read model fed by events",
    requires=("users",),
    jobs=[
        Job("deliver-notifications", 5.0, delivery.deliver_due),
        Job("purge-expired-notifications", 3600.0, delivery.purge_expired),
    ],
    facade="ecommerce.modules.notifications.api",
    lacks={"events": "publishes no integration events: the end of the line (it sends emails)"},
)
