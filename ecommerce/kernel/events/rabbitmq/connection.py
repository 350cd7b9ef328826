"""One AMQP connection per process, on its own event loop thread, callable from synchronous code.

Why a thread of its own: the relay and the handlers are plain synchronous code (they run in the
kernel's worker threads, in the CLI, in scripts), while aio-pika is asyncio. Rather than make the domain
async, the broker gets a private loop: synchronous callers submit a coroutine and wait for its result
(:meth:`BrokerClient.call`). The web app's own loop is never blocked by the broker, and the CLI needs no
loop at all.

The connection is aio-pika's *robust* connection: when the broker closes it (a restart,
``rabbitmqctl close_all_connections``) it reconnects and restores its channels, queues and consumers by
itself. What it cannot restore is an operation that was in flight: a publish whose confirm was lost
fails (the relay retries the row: a duplicate at worst, which the consumers' inboxes absorb), and an
ack for a message delivered on the old channel is lost (the broker redelivers it: the same).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection

from ecommerce.kernel.events.rabbitmq.topology import Topology
from ecommerce.kernel.settings import redact_url

log = logging.getLogger("ecommerce.events.broker")
T = TypeVar("T")


class BrokerUnavailable(ConnectionError):
    """The broker cannot be reached (or did not answer in time)."""


class BrokerClient:
    """The process's connection to RabbitMQ: connects lazily, declares the topology once per connection."""

    def __init__(self, url: str, topology: Topology, *, timeout: float = 10.0, reconnect_interval: float = 1.0) -> None:
        self.url = url
        self.topology = topology
        self.timeout = timeout
        self.reconnect_interval = reconnect_interval
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ecommerce-broker", daemon=True)
        self._thread.start()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule ``coroutine`` on the broker's loop; the future of its result."""
        if self._closed:
            coroutine.close()
            raise BrokerUnavailable("the broker client is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the broker's loop and wait for it (from any thread but that loop's)."""
        future = self.submit(coroutine)
        try:
            return future.result(timeout=timeout if timeout is not None else self.timeout * 3)
        except TimeoutError:
            future.cancel()
            raise BrokerUnavailable("the broker did not answer in time") from None

    async def channel(self) -> AbstractRobustChannel:
        """The shared channel (publisher confirms on), connecting and declaring the topology first."""
        if self._channel is not None and not self._channel.is_closed:
            return self._channel
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._channel is not None and not self._channel.is_closed:
                return self._channel
            try:
                if self._connection is None or self._connection.is_closed:
                    self._connection = await aio_pika.connect_robust(
                        self.url, timeout=self.timeout, reconnect_interval=self.reconnect_interval,
                        client_properties={"connection_name": f"ecommerce {self.topology.namespace}"},
                    )
                channel: AbstractRobustChannel = await self._connection.channel(
                    publisher_confirms=True
                )
                await self.topology.declare(channel)
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
                raise BrokerUnavailable(f"RabbitMQ at {redact_url(self.url)}: {exc!r}") from exc
            self._channel = channel
            return channel

    async def new_channel(self, prefetch: int) -> AbstractRobustChannel:
        """A channel of its own (a consumer's: its prefetch and its acks are its own)."""
        await self.channel()
        assert self._connection is not None
        channel: AbstractRobustChannel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        return channel

    def ping(self) -> None:
        """Raise :class:`BrokerUnavailable` unless the broker answers (``/readyz``)."""
        self.call(self._ping(), timeout=self.timeout)

    async def _ping(self) -> None:
        channel = await self.channel()
        await channel.get_exchange(self.topology.exchange, ensure=True)

    def delete_topology(self, retry_delays_ms: Iterable[int] = ()) -> None:
        """Delete the namespace's exchange and queues (benchmarks and test runs clean up after themselves)."""
        async def go() -> None:
            await self.topology.delete(await self.channel(), retry_delays_ms)

        self.call(go())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        async def shut() -> None:
            if self._connection is not None:
                await self._connection.close()

        try:
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=self.timeout)
        except Exception:  # closing anyway: a broker that is gone cannot be closed politely
            log.debug("broker connection did not close cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=self.timeout)
        if not self._thread.is_alive():
            self._loop.close()
