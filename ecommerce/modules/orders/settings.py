"""The orders module's settings: how long an unpaid order holds its stock, read at start-up from
``ECOMMERCE_ORDERS_ORDER_TTL`` (or the older ``ECOMMERCE_ORDER_TTL``) or the config file's ``[orders]``
table, and kept here by the module's setup for checkout to read."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import number, setting


@dataclass(frozen=True)
class OrdersSettings:
    #: Seconds an order may stay ``pending_payment`` (and hold its stock) before it expires.
    order_ttl: int = setting(30 * 60, number(int, 1, 30 * 24 * 3600), legacy="ECOMMERCE_ORDER_TTL",
                             doc="seconds an unpaid order holds its stock before it expires")

    @property
    def order_lifetime(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.order_ttl)


runtime: Runtime[OrdersSettings] = Runtime("orders")


def setup(context: ModuleContext[OrdersSettings]) -> None:
    """The module's start: keep its settings for checkout."""
    runtime.start(context.settings)
