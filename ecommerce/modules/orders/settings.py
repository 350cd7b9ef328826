"""The orders module's settings: how long an unpaid order holds its stock and how long an unchanged cart
is kept, read at start-up from ``ECOMMERCE_ORDERS_*`` (the order's also from the older
``ECOMMERCE_ORDER_TTL``) or the config file's ``[orders]`` table, and kept here by the module's setup for
checkout and the idle-cart purge to read."""

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
    #: Seconds a cart may stay unchanged before the ``purge-idle-carts`` job deletes it with its lines.
    cart_ttl: int = setting(90 * 24 * 3600, number(int, 3600, 3650 * 24 * 3600),
                            doc="seconds a cart may stay unchanged before it is deleted with its lines")

    @property
    def order_lifetime(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.order_ttl)

    @property
    def cart_lifetime(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.cart_ttl)


runtime: Runtime[OrdersSettings] = Runtime("orders")


def setup(context: ModuleContext[OrdersSettings]) -> None:
    """The module's start: keep its settings for checkout and the idle-cart purge."""
    runtime.start(context.settings)
