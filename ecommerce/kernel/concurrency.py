"""``run_sync``: the one door from the async edge into the synchronous domain.

Why: domain code is plain blocking Python (peewee + psycopg2). Running it on the event loop would stall
every other request for the length of a query, so each use case runs — connection to commit — in a
bounded thread pool, and its connections go back to the pools before the thread is reused.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from ecommerce.kernel.database import Databases

P = ParamSpec("P")
T = TypeVar("T")


class SyncRunner:
    """A bounded thread pool that knows which connections to release after each call."""

    def __init__(self, databases: Databases, max_workers: int) -> None:
        self.databases = databases
        self.max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="usecase")
        return self._executor

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a use case in the current thread with the same clean-up as in the pool (CLI, scripts)."""
        try:
            return fn(*args, **kwargs)
        finally:
            self.databases.release_thread_connections()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # keeps the request id for logs written by the use case
        call: Callable[[], T] = functools.partial(context.run, self.call, fn, *args, **kwargs)  # type: ignore[arg-type]
        return await loop.run_in_executor(self._pool(), call)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


_active: SyncRunner | None = None


def activate(runner: SyncRunner | None) -> None:
    """Make ``runner`` the one ``run_sync`` uses (the kernel calls this at start-up)."""
    global _active
    _active = runner


async def run_sync(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Await a synchronous use case without blocking the event loop."""
    if _active is None:
        raise RuntimeError("no kernel is running: call ecommerce.bootstrap() or create_app() first")
    return await _active.run(fn, *args, **kwargs)
