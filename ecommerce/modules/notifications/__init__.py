"""Notifications: emails to customers, a read model built from users, orders and payments events,
kept in a document store (Redis when configured, else the module's own SQL database)."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.notifications import delivery, settings
from ecommerce.modules.notifications.models import MODELS, database, events
from ecommerce.modules.notifications.reactions import SUBSCRIPTIONS

module = Module(
    name="notifications",
    description="Customer emails (SMTP or a mailbox folder), a document read model fed by events",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.notifications.http:build_blueprint",
    subscriptions=SUBSCRIPTIONS,
    requires=("users",),
    jobs=[
        Job("deliver-notifications", 5.0, delivery.deliver_due),
        Job("purge-expired-notifications", 3600.0, delivery.purge_expired),
    ],
    cli="ecommerce.modules.notifications.cli:add_commands",
    facade="ecommerce.modules.notifications.api",
    settings=settings.NotificationsSettings,
    setup=settings.setup,
    lacks={"events": "publishes no integration events: the end of the line (it sends emails)"},
)
