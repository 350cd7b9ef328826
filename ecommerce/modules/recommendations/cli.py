"""``ecommerce recommendations rebuild``: recompute the model from the data lake's event log."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ecommerce.kernel import progress
from ecommerce.kernel.bootstrap import migrated
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.recommendations import api


def rebuild(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.event_lake:
        print("the event lake is off (ECOMMERCE_EVENT_LAKE=false): there is no log to rebuild from",
              file=sys.stderr)
        return 2
    with migrated(settings) as kernel:
        assert kernel.lake is not None
        with progress.bar("replaying", "event") as bar:
            def total(count: int) -> None:
                bar.reset(total=count)

            def advance(count: int) -> None:
                bar.update(count)

            done: api.Rebuilt = kernel.runner.call(api.rebuild, kernel.lake, advance, total, args.engine)
    print(f"replayed {done.events} event(s) from {settings.lake_dir}: "
          f"{done.products} product(s) with sales, {done.pairs} bought-together pair(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    group = command_group(sub, "recommendations", "the recommendations model")
    job = command(group, "rebuild", rebuild, "recompute the model from the data lake's event log")
    job.add_argument("--engine", choices=["duckdb", "fold"], default="duckdb",
                     help="SQL over the lake with DuckDB (default), or the Python fold (the reference)")
