"""``ecommerce orders expire``: expire unpaid orders past their deadline now (the app also does it)."""

from __future__ import annotations

import argparse
from typing import Any

from ecommerce.kernel.bootstrap import run_until_done
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.orders import transitions


def expire(args: argparse.Namespace, settings: Settings) -> int:
    print(f"expired {run_until_done(settings, transitions.expire_due)} order(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    orders = command_group(sub, "orders", "orders")
    command(orders, "expire", expire, "expire unpaid orders past their deadline and release their stock")
