"""The lake's daily compaction as a background job of the app (``ecommerce lake compact`` by hand).

It lives here because this module is the lake's reader in the app: compacted days make its rebuild read
Parquet. Every worker runs it (jobs are idempotent by contract); the compaction's own lock lets one of
them work and the others return at once, and a day is only compacted once it is closed, so the job is a
directory listing on all but the first run after midnight (UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecommerce.kernel.lake.commands import installed_schemas
from ecommerce.kernel.lake.compaction import Compacted, compact

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel

#: How often the app looks for closed days (seconds).
EVERY = 3600.0
_kernel: list[Kernel] = []


def bind(kernel: Kernel) -> None:
    """Module set-up: remember the kernel whose lake the job compacts."""
    _kernel[:] = [kernel]


def compact_closed_days() -> Compacted:
    if not _kernel or _kernel[0].lake is None:
        return Compacted()
    kernel = _kernel[0]
    assert kernel.lake is not None
    return compact(kernel.lake.events_dir, installed_schemas(kernel.registry))
