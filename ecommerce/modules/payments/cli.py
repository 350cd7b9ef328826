"""``ecommerce payments reconcile`` and ``ecommerce payments rotate-keys``."""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Any

from ecommerce.kernel.bootstrap import migrated
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.payments import card_tokens, charges, refunds


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    with migrated(settings) as kernel:
        done = kernel.runner.call(charges.reconcile, datetime.timedelta(seconds=args.older_than))
        refunded = kernel.runner.call(refunds.reconcile, datetime.timedelta(seconds=args.older_than))
    print(f"reconciled: {done['succeeded']} succeeded, {done['failed']} failed")
    print(f"refunds: {refunded['succeeded']} succeeded, {refunded['failed']} failed, "
          f"{refunded['pending']} still pending")
    return 0


def rotate_keys(args: argparse.Namespace, settings: Settings) -> int:
    with migrated(settings) as kernel:
        try:
            done = kernel.runner.call(card_tokens.rotate_keys, args.drop_old)
        except RuntimeError as exc:
            print(f"ecommerce: {exc}", file=sys.stderr)
            return 2
    dropped = args.drop_old and not done.unreadable
    print(f"re-encrypted {done.rotated} card(s) under key {done.kid}" + ("; old keys removed" if dropped else ""))
    if done.unreadable:
        print(f"ecommerce: {len(done.unreadable)} card(s) could not be decrypted and were left as they were "
              f"({', '.join(done.unreadable)}); old keys kept", file=sys.stderr)
        return 1
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    payments = command_group(sub, "payments", "payments")
    rec = command(payments, "reconcile", reconcile,
                  "settle pending payments and refunds by asking the gateway what happened")
    rec.add_argument("--older-than", type=float, default=120.0, metavar="SECONDS",
                     help="only payments pending this long (default 120: never race a charge in flight)")
    rot = command(payments, "rotate-keys", rotate_keys, "re-encrypt every stored card under a new key")
    rot.add_argument("--drop-old", action="store_true", help="remove the previous keys once re-encrypted")
