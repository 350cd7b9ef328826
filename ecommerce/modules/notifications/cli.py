"""``ecommerce notifications deliver`` and ``ecommerce notifications list --user ID``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ecommerce.kernel.bootstrap import migrated
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.notifications import api, delivery


def deliver(args: argparse.Namespace, settings: Settings) -> int:
    with migrated(settings) as kernel:
        report = kernel.runner.call(delivery.deliver_until_idle)
    print(f"sent {report.sent}, retrying later {report.retried}, failed {report.failed}")
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 0


def show(args: argparse.Namespace, settings: Settings) -> int:
    with migrated(settings) as kernel:
        items = kernel.runner.call(api.recent, args.user, args.limit)
        unread = kernel.runner.call(api.unread_count, args.user)
    for item in items:
        mark = " " if item["read"] else "*"
        print(f"{mark} {item['created_at']}  {item['status']:<8} {item['template']:<18} {item['subject']}"
              f"  [{item['id']}]")
    print(f"{len(items)} shown, {unread} unread")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    notifications = command_group(sub, "notifications", "customer notifications (email)")
    command(notifications, "deliver", deliver, "send every notification that is due now")
    listing = command(notifications, "list", show, "a user's newest notifications (* = unread)")
    listing.add_argument("--user", type=int, required=True, metavar="ID", help="the user's id")
    listing.add_argument("--limit", type=int, default=20, help="how many (default 20, at most 100)")
