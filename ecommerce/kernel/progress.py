"""The progress bar of the long ``ecommerce`` commands (migrate, import, reindex, rebuild): tqdm on stderr,
shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tqdm import tqdm


def bar(desc: str, unit: str, total: int | None = None, *, leave: bool = True) -> tqdm:
    """A progress bar to use as a context manager (``update``, ``reset``)."""
    # Imported here: tqdm costs every ``ecommerce`` command (and every server) tens of milliseconds to
    # import, and only these commands draw a bar.
    from tqdm import tqdm

    # A thread lock, not tqdm's default multiprocessing lock: creating that one pins the process to the
    # "fork" start method, and Sanic's multi-worker mode then refuses to start with "spawn".
    tqdm.set_lock(threading.RLock())
    return tqdm(total=total, desc=desc, unit=unit, disable=None, file=sys.stderr, leave=leave)
