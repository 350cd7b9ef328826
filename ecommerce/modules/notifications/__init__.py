"""Notifications: emails to customers, a read model built from users, orders and payments events,
kept in a document store (Redis when configured, else the module's own SQL database)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.notifications import config, delivery
from ecommerce.modules.notifications.models import MODELS, database, events
from ecommerce.modules.notifications.reactions import SUBSCRIPTIONS

if TYPE_CHECKING:
    import argparse

    from ecommerce.kernel.bootstrap import Kernel


def _setup(kernel: Kernel) -> None:
    config.configure(config.from_settings(kernel.settings))


def _cli(sub: argparse._SubParsersAction[Any]) -> None:
    from ecommerce.modules.notifications.cli import add_commands

    add_commands(sub)


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
    cli=_cli,
    setup=_setup,
)
