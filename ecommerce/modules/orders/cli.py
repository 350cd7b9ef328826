"""``ecommerce orders expire`` and ``purge-carts``: the module's jobs, run now (the app also runs them)."""

from __future__ import annotations

import argparse
from typing import Any

from ecommerce.kernel.bootstrap import run_until_done
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.orders import cart, transitions


def expire(args: argparse.Namespace, settings: Settings) -> int:
    print(f"expired {run_until_done(settings, transitions.expire_due)} order(s)")
    return 0


def purge_carts(args: argparse.Namespace, settings: Settings) -> int:
    print(f"deleted {run_until_done(settings, cart.purge_idle)} idle cart(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    orders = command_group(sub, "orders", "orders")
    command(orders, "expire", expire, "expire unpaid orders past their deadline and release their stock")
    command(orders, "purge-carts", purge_carts, "delete the carts nobody changed for ECOMMERCE_ORDERS_CART_TTL")
