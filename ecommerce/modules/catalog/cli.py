"""``ecommerce catalog import FILE.csv`` and ``ecommerce catalog expire-reservations``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ecommerce.kernel import progress
from ecommerce.kernel.bootstrap import migrated, run_until_done
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import importer, reservations


def import_products(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"ecommerce: no such file: {path}", file=sys.stderr)
        return 2
    with migrated(settings) as kernel, progress.bar("importing", "row", importer.count_rows(path)) as bar:
        def advance(rows: int) -> None:
            bar.update(rows)

        try:
            report = kernel.runner.call(importer.import_csv, path, advance)
        except ValueError as exc:
            print(f"ecommerce: {exc}", file=sys.stderr)
            return 2
    for line, reason in report.errors:
        print(f"line {line}: {reason}", file=sys.stderr)
    print(f"{report.created} created, {report.updated} updated, {len(report.errors)} rejected")
    return 1 if report.errors else 0


def expire_reservations(args: argparse.Namespace, settings: Settings) -> int:
    """Expire reservations still held after their deadline now (the app's job does it every 30 s)."""
    print(f"expired {run_until_done(settings, reservations.expire_due)} reservation(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    catalog = command_group(sub, "catalog", "products and stock")
    imp = command(catalog, "import", import_products, "upsert products (and stock) from a CSV file, by SKU")
    imp.add_argument("file", help="CSV: identification,name,description,price,currency,brand,category"
                                  "[,warehouse,quantity]")
    command(catalog, "expire-reservations", expire_reservations,
            "release stock held by reservations past their deadline (no order confirmed them in time)")
