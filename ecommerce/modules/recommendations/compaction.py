"""The lake's daily compaction as a background job of the app (``ecommerce lake compact`` by hand).

It lives here because this module is the lake's reader in the app: compacted days make its rebuild read
Parquet. Every worker runs it (jobs are idempotent by contract); the compaction's own lock lets one of
them work and the others return at once, and a day is only compacted once it is closed, so the job is a
directory listing on all but the first run after midnight (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.events.lake import EventLake
from ecommerce.kernel.lake.commands import installed_schemas
from ecommerce.kernel.lake.compaction import Compacted, compact
from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.registry import Registry

#: How often the app looks for closed days (seconds).
EVERY = 3600.0


@dataclass(frozen=True)
class Lake:
    events: EventLake | None
    registry: Registry


runtime: Runtime[Lake] = Runtime("recommendations")


def setup(context: ModuleContext[Any]) -> None:
    """The module's start: remember the kernel's lake (None when it is off) and the enabled modules."""
    runtime.start(Lake(context.lake, context.registry))


def compact_closed_days() -> Compacted:
    lake = runtime.get()
    if lake.events is None:
        return Compacted()
    return compact(lake.events.events_dir, installed_schemas(lake.registry))
