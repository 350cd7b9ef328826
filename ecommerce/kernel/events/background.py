"""The background work of an app: the outbox relay, the broker consumers and the modules' periodic jobs.

Where it runs (issue 15, ADR 0015): with one worker (``ecommerce serve``, ``create_server`` in tests) inside
that worker, as asyncio tasks beside the requests. With several workers, in **one process of its own**
that Sanic's worker manager starts next to them (:func:`run_process`): the relay and the jobs took about
a third of a request worker's CPU in a checkout (py-spy, benchmarks/http), and every worker ran them all.
The request workers then only serve requests; a commit that publishes still wakes the relay at once, now
across processes: the committing worker sends the modules that published as one datagram to the relay
process's socket (:class:`WakeSender`, fire and forget: a lost datagram costs at most the poll interval,
the relay's full pass every ``ECOMMERCE_RELAY_INTERVAL``, which delivers it anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ecommerce.kernel.concurrency import SyncRunner
from ecommerce.kernel.events.tables import add_publish_listener, remove_publish_listener

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.settings import Settings

log = logging.getLogger("ecommerce.events.background")
#: The relay process's name (``ps -o comm``), at most 15 characters.
PROCESS_NAME = "ecommerce-relay"


def wake_address(tag: str) -> str:
    """A Linux abstract socket name (no file to clean up), unique to one ``serve`` (``tag``: its pid)."""
    return f"\0ecommerce-relay-{tag}"


class WakeSender:
    """A publish listener of a request worker: tells the relay process which outboxes just committed."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def __call__(self, modules: frozenset[str]) -> None:
        # Never blocks, never raises into the committed request: a relay that is not listening (yet), or a
        # full queue, only means the event waits for the relay's next full pass.
        with contextlib.suppress(OSError):
            self._socket.sendto(",".join(sorted(modules)).encode(), self.address)

    def close(self) -> None:
        self._socket.close()


def start_in_process(kernel: Kernel, settings: Settings, listen: str | None = None) -> list[asyncio.Task[None]]:
    """The relay, the consumers and the jobs as tasks of the running loop (in the one worker, or in the
    relay process; ``listen``: the socket the request workers' wake-ups arrive on)."""
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(relay_loop(kernel, settings.relay_interval, listen, settings.relay_linger))]
    if kernel.consumers is not None:
        # With a broker, this process also consumes its modules' queues (competing consumers: the broker
        # spreads the messages over every consumer of every instance). A broker that is down now is not
        # fatal: the relay keeps events in the outbox and /readyz reports it; the consumers start once a
        # later attempt connects.
        tasks.append(loop.create_task(start_consumers(kernel)))
    # Each module's periodic jobs (idempotent by contract: any number of processes may run them).
    tasks += [loop.create_task(job_loop(job.name, job.run, settings.job_interval or job.every, kernel.runner))
              for m in kernel.modules for job in m.jobs]
    return tasks


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def start_consumers(kernel: Kernel, retry_every: float = 2.0) -> None:
    """Register this process's consumers with the broker, retrying until the broker answers."""
    assert kernel.consumers is not None
    while True:
        try:
            await asyncio.to_thread(kernel.consumers.start)
            return
        except Exception as exc:
            log.warning("event consumers not started, retrying", extra={"error": repr(exc)})
            await asyncio.sleep(retry_every)


async def job_loop(name: str, run: Callable[[], object], every: float, runner: SyncRunner) -> None:
    """``runner``: the kernel's own, not whichever kernel is active in the process, so that closing the
    kernel waits for a job in flight before it closes the job's database connections."""
    while True:
        await asyncio.sleep(every)
        try:
            await runner.run(run)
        except Exception:
            log.exception("background job failed", extra={"job": name})


async def relay_loop(kernel: Kernel, interval: float, listen: str | None = None, linger: float = 0.0) -> None:
    """Deliver events in the background. Woken when a transaction that published commits (in this process,
    or, with ``listen``, a datagram from a request worker naming the modules), it looks only at the outboxes
    that committed (``Relay.run_hinted``); every ``interval`` without a wake-up it polls them all (events of
    other processes and instances, retries whose backoff ended, a lost wake-up).

    ``linger`` (``ECOMMERCE_RELAY_LINGER``): while events keep coming (the last pass delivered some), a
    wake-up waits this long before its pass, so the next checkouts' events join the same batch: a pass's
    fixed costs (a claim and a mark per outbox, an inbox transaction per consuming module, each a commit)
    are shared instead of paid per checkout (ADR 0015: 13 relay commits per checkout woken after each, 1.35
    in one drain). The first event after a quiet pass is delivered at once."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    relay = kernel.relay

    def nudge(modules: frozenset[str]) -> None:
        loop.call_soon_threadsafe(wake.set)

    add_publish_listener(nudge)
    receiver: socket.socket | None = None
    if listen is not None:
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(listen)
        receiver.setblocking(False)

        def received() -> None:
            assert receiver is not None
            with contextlib.suppress(BlockingIOError):
                while True:
                    relay.hint(m for m in receiver.recv(4096).decode().split(",") if m)
                    wake.set()

        loop.add_reader(receiver.fileno(), received)
    full = True  # the first pass, and every pass after a quiet interval, looks at every outbox
    try:
        while True:
            wake.clear()
            found = 0
            try:
                # The kernel's own runner: closing the kernel then waits for this pass before it closes
                # the connections the pass uses (several kernels in one process, as in tests, segfaulted
                # psycopg2 when another kernel's runner carried it).
                report = await kernel.runner.run(relay.run_once if full else relay.run_hinted)
                found = report.delivered + report.retried + report.failed
                if full and found >= relay.batch_size:
                    continue  # a full batch: there may be more waiting
                if relay.hinted:
                    full = False
                    if linger and found:
                        await asyncio.sleep(linger)  # busy: let the next checkouts' events join the batch
                    continue
            except Exception:
                log.exception("outbox relay pass failed")
            try:
                await asyncio.wait_for(wake.wait(), timeout=interval)
                full = False
                if linger and found:
                    await asyncio.sleep(linger)
            except TimeoutError:
                full = True
    finally:
        remove_publish_listener(nudge)
        if receiver is not None:
            loop.remove_reader(receiver.fileno())
            receiver.close()


def run_process(settings: Settings, listen: str) -> None:
    """The entry point of the relay process that Sanic's worker manager runs beside the request workers:
    the relay (woken by the workers' datagrams on ``listen``), the broker consumers and the periodic jobs,
    until SIGTERM or SIGINT."""
    from ecommerce.kernel.bootstrap import Kernel

    with contextlib.suppress(OSError):  # ps, top and the tests see which process this is (Linux)
        Path("/proc/self/comm").write_text(PROCESS_NAME)
    kernel = Kernel(settings)

    parent = os.getppid()

    async def orphaned() -> None:
        # Never outlive the serve process: a signal lost while this process was still starting (seen when a
        # test stopped the server at once) would otherwise leave a relay running with nobody to stop it.
        while os.getppid() == parent:
            await asyncio.sleep(1)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, done.set)
        tasks = start_in_process(kernel, settings, listen)
        watch = loop.create_task(orphaned())
        watch.add_done_callback(lambda _: done.set())
        try:
            await done.wait()
        finally:
            await stop([*tasks, watch])

    try:
        asyncio.run(main())
    finally:
        kernel.close()
