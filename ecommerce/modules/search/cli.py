"""``ecommerce search reindex``: rebuild the search index from the catalog."""

from __future__ import annotations

import argparse
from typing import Any

from ecommerce.kernel import progress
from ecommerce.kernel.bootstrap import migrated
from ecommerce.kernel.module import command, command_group
from ecommerce.kernel.settings import Settings
from ecommerce.modules.search import indexer


def reindex(args: argparse.Namespace, settings: Settings) -> int:
    with migrated(settings) as kernel, progress.bar("indexing", "product") as bar:
        def advance(count: int) -> None:
            bar.update(count)

        count = kernel.runner.call(indexer.reindex, advance)
    print(f"indexed {count} product(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    search = command_group(sub, "search", "the search index")
    command(search, "reindex", reindex, "rebuild the search index from the catalog")
