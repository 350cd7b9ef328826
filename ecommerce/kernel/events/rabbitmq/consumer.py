"""A consuming module's side of RabbitMQ: messages from its queue run through its inbox, then are acked.

The order of things is what makes it safe:

1. a batch of messages arrives (up to the channel's prefetch);
2. their handlers run through :func:`~ecommerce.kernel.events.transport.consume` — the same code as the
   in-process transport: the module's inbox transaction, one commit for the batch when its handlers are
   atomic, one at a time when one fails;
3. only after that commit is a message acked. A process killed between 2 and 3 gets the message again
   (the broker requeues unacked messages), and the inbox makes the second run change nothing;
4. a message whose handler failed is re-published to the module's retry queue for that attempt's delay
   (1 s, 2 s, 4 s ... times ``retry_base``), with its attempt count in the ``x-attempts`` header, and
   then acked; after ``max_attempts`` it goes to the module's dead-letter queue instead, with the last
   error. It is never acked as if it had worked. An envelope nobody can read is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, TypeVar

import aio_pika
import aiormq
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from ecommerce.kernel.events.envelope import EnvelopeError, decode
from ecommerce.kernel.events.event import Subscription
from ecommerce.kernel.events.rabbitmq.connection import BrokerClient
from ecommerce.kernel.events.transport import Consumer, Delivery, Failures, consume
from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.tally import Tally

log = logging.getLogger("ecommerce.events.broker")
T = TypeVar("T")
#: Runs blocking work with the kernel's connection handling (``SyncRunner.call``).
Runner = Callable[..., Any]
ATTEMPTS = "x-attempts"
LAST_ERROR = "x-last-error"
MAX_DELAY_SECONDS = 300


@dataclass
class ConsumeReport(Tally):
    """What one batch (or one drain) did, by message."""

    acked: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.acked + self.retried + self.dead


def retry_delay_ms(attempts: int, retry_base: float) -> int:
    """How long a message that has failed ``attempts`` times waits: base, 2x base, 4x ... capped at 5 min."""
    return int(min(retry_base * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS) * 1000)


def attempts_of(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPTS, 0)
    return value if isinstance(value, int) and value >= 0 else 0


@dataclass(eq=False)
class ModuleConsumer:
    """One module's queue: batches of messages through its inbox, acked after the commit."""

    client: BrokerClient
    consumer: Consumer
    run: Runner
    _: KW_ONLY
    batch_size: int = 100
    max_attempts: int = 10
    retry_base: float = 1.0
    on_report: Callable[[str, ConsumeReport], None] | None = None
    #: The consumer's subscriptions by the routing key of their event.
    routes: dict[str, list[Subscription]] = field(init=False, default_factory=dict)
    _channel: AbstractChannel | None = field(init=False, default=None)
    _task: asyncio.Task[None] | None = field(init=False, default=None)
    _tag: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        for sub in self.consumer.subscriptions:
            self.routes.setdefault(sub.event.key(), []).append(sub)

    @property
    def module(self) -> str:
        return self.consumer.module

    @property
    def queue_name(self) -> str:
        return self.client.topology.queue(self.module)

    async def _queue(self) -> AbstractQueue:
        if self._channel is None or self._channel.is_closed:
            self._channel = await self.client.new_channel(prefetch=self.batch_size)
        return await self._channel.get_queue(self.queue_name, ensure=True)

    # --- pull: drain what is queued now (the CLI's "relay until idle", the tests) ---------------------
    async def drain(self) -> ConsumeReport:
        """Process every message ready in the queue now, batch by batch; returns what happened."""
        queue = await self._queue()
        total = ConsumeReport()
        while True:
            batch: list[AbstractIncomingMessage] = []
            while len(batch) < self.batch_size:
                incoming = await queue.get(no_ack=False, fail=False, timeout=self.client.timeout)
                if incoming is None:
                    break
                batch.append(incoming)
            if not batch:
                return total
            total += await self.handle(batch)

    # --- push: a long-running consumer (the app's workers, ``ecommerce events consume``) ---------------
    async def start(self) -> None:
        """Consume in the background until :meth:`stop`; restored by the robust connection after a drop."""
        if self._task is not None:
            return
        waiting: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        queue = await self._queue()
        self._tag = await queue.consume(waiting.put, no_ack=False)
        self._task = asyncio.create_task(self._batches(waiting), name=f"consume {self.module}")

    async def _batches(self, waiting: asyncio.Queue[AbstractIncomingMessage]) -> None:
        while True:
            batch = [await waiting.get()]
            while len(batch) < self.batch_size and not waiting.empty():
                batch.append(waiting.get_nowait())
            try:
                await self.handle(batch)
            except Exception:  # unacked messages come back; the consumer must keep going
                log.exception("consumer batch failed", extra={"consumer": self.module})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()  # unacked messages go back to the queue for another consumer
        self._channel = None

    # --- one batch ---------------------------------------------------------------------------------
    async def handle(self, batch: Sequence[AbstractIncomingMessage]) -> ConsumeReport:
        """Run the batch's handlers (in a worker thread, through the inbox), then ack, retry or bury each."""
        report = ConsumeReport()
        deliveries: list[Delivery] = []
        buried: set[int] = set()
        for index, incoming in enumerate(batch):
            try:
                event = decode(incoming.body, row_id=index)
            except EnvelopeError as exc:
                await self._bury(incoming, f"unreadable envelope: {exc}", report)
                buried.add(index)
                continue
            # No subscription for the key (one removed since the binding was made): nothing to do, acked.
            deliveries.extend(Delivery(event, sub) for sub in self.routes.get(event.key, []))
        failures: Failures = await asyncio.to_thread(self.run, consume, self.consumer, deliveries) if deliveries else {}
        crash_point("consumer.after_commit")
        for index, incoming in enumerate(batch):
            errors = failures.get(index)
            if index in buried:
                continue
            if errors:
                report.errors.extend(errors)
                await self._fail(incoming, "\n".join(errors), report)
            else:
                await self._ack(incoming, report)
        if self.on_report is not None:
            self.on_report(self.module, report)
        return report

    async def _ack(self, incoming: AbstractIncomingMessage, report: ConsumeReport) -> None:
        try:
            await incoming.ack()
        except (aio_pika.exceptions.AMQPError, RuntimeError) as exc:
            # The channel died after the commit: the broker redelivers and the inbox drops the copy.
            log.info("ack lost, the message will be redelivered", extra={"consumer": self.module, "error": repr(exc)})
            return
        report.acked += 1

    async def _fail(self, incoming: AbstractIncomingMessage, error: str, report: ConsumeReport) -> None:
        attempts = attempts_of(incoming) + 1
        if attempts >= self.max_attempts:
            await self._bury(incoming, error, report, attempts)
            return
        delay = retry_delay_ms(attempts, self.retry_base)
        assert self._channel is not None
        try:  # declared each time: it renews the retry queue's expiry (x-expires) before a message goes in
            await self.client.topology.declare_retry(self._channel, self.module, delay)
        except (TimeoutError, aio_pika.exceptions.AMQPError, RuntimeError, OSError) as exc:
            log.warning("retry queue unavailable, the message will be redelivered",
                        extra={"consumer": self.module, "error": repr(exc)})
            return
        if await self._republish(incoming, self.client.topology.retry_queue(self.module, delay), attempts, error):
            report.retried += 1

    async def _bury(self, incoming: AbstractIncomingMessage, error: str, report: ConsumeReport,
                    attempts: int | None = None) -> None:
        """Move the message to the module's dead letters (then ack it): visible, replayable, never lost."""
        log.error("event dead-lettered", extra={"consumer": self.module, "event": incoming.type, "error": error})
        if await self._republish(incoming, self.client.topology.dead_queue(self.module),
                                 attempts if attempts is not None else attempts_of(incoming) + 1, error):
            report.dead += 1

    async def _republish(self, incoming: AbstractIncomingMessage, queue: str, attempts: int, error: str) -> bool:
        """Publish a copy to ``queue`` (confirmed), then ack the original; False (left unacked) on failure."""
        if self._channel is None or self._channel.is_closed:
            return False  # the broker requeues the original when the channel went away
        headers = dict(incoming.headers or {})
        headers[ATTEMPTS] = attempts
        headers[LAST_ERROR] = error[-2000:]
        try:
            await send_to_queue(self._channel, copy_of(incoming, headers), queue, self.client.timeout)
            await incoming.ack()
        except (TimeoutError, aio_pika.exceptions.AMQPError, RuntimeError, OSError) as exc:
            log.warning("could not move a failed message, it will be redelivered",
                        extra={"consumer": self.module, "queue": queue, "error": repr(exc)})
            return False
        return True


def copy_of(incoming: AbstractIncomingMessage, headers: dict[str, Any]) -> Message:
    """A persistent copy of a received message with new headers (to a retry queue, the dead letters, or
    back from them): same body, id, type and source, so the consumer's inbox recognises it."""
    return Message(
        incoming.body,
        headers=headers,
        message_id=incoming.message_id,
        content_type=incoming.content_type,
        delivery_mode=DeliveryMode.PERSISTENT,
        timestamp=incoming.timestamp,
        type=incoming.type,
        app_id=incoming.app_id,
    )


class Unroutable(aio_pika.exceptions.AMQPError):
    """The broker confirmed a message it could not put in any queue (the queue is gone)."""


async def send_to_queue(channel: AbstractChannel, message: Message, queue: str, timeout: float) -> None:
    """Publish ``message`` straight into ``queue`` and wait for the broker's confirm. ``mandatory``: a
    queue that no longer exists must be an error, never a silent drop followed by an ack of the original."""
    result = await channel.default_exchange.publish(message, routing_key=queue, mandatory=True, timeout=timeout)
    if not isinstance(result, aiormq.spec.Basic.Ack):
        raise Unroutable(f"queue {queue!r} did not take the message")


@dataclass(frozen=True)
class QueueDepth:
    """What ``ecommerce events status`` shows per consuming module."""

    module: str
    ready: int  # waiting in the module's queue
    retrying: int  # waiting out a retry delay
    dead: int  # in the dead-letter queue


class BrokerConsumers:
    """Every consuming module of this process, on one broker client."""

    def __init__(self, client: BrokerClient, consumers: Sequence[Consumer], run: Runner, **options: Any) -> None:
        self.client = client
        self.by_module: Mapping[str, ModuleConsumer] = {
            c.module: ModuleConsumer(client, c, run, **options) for c in consumers
        }
        self.started = False

    def _select(self, modules: Sequence[str] | None) -> list[ModuleConsumer]:
        unknown = set(modules or ()) - set(self.by_module)
        if unknown:
            raise ValueError(f"no consuming module named {', '.join(sorted(unknown))}")
        return [c for name, c in self.by_module.items() if modules is None or name in modules]

    def start(self, modules: Sequence[str] | None = None) -> None:
        """Start push consumers (returns once they are registered with the broker)."""
        async def go() -> None:
            for consumer in self._select(modules):
                await consumer.start()

        self.client.call(go())
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False

        async def go() -> None:
            for consumer in self.by_module.values():
                await consumer.stop()

        self.client.call(go())

    def drain(self, modules: Sequence[str] | None = None) -> ConsumeReport:
        """Process every message ready now in the selected modules' queues (pull)."""
        async def go() -> ConsumeReport:
            total = ConsumeReport()
            for consumer in self._select(modules):
                total += await consumer.drain()
            return total

        return self.client.call(go(), timeout=None)

    def depths(self) -> list[QueueDepth]:
        return self.client.call(self._depths())

    async def _depths(self) -> list[QueueDepth]:
        channel = await self.client.channel()
        topology = self.client.topology
        found = []
        for name, consumer in self.by_module.items():
            ready = await _count(channel, topology.queue(name))
            dead = await _count(channel, topology.dead_queue(name))
            delays = {retry_delay_ms(a, consumer.retry_base) for a in range(1, consumer.max_attempts)}
            retrying = 0
            for delay in sorted(delays):
                retrying += _ready(await topology.declare_retry(channel, name, delay))
            found.append(QueueDepth(name, ready, retrying, dead))
        return found

    def replay_dead(self, modules: Sequence[str] | None = None) -> dict[str, int]:
        """Move every dead letter of the selected modules back into their queues, attempts reset."""
        return self.client.call(self._replay(self._select(modules)), timeout=None)

    async def _replay(self, consumers: Sequence[ModuleConsumer]) -> dict[str, int]:
        channel = await self.client.new_channel(prefetch=100)
        moved: dict[str, int] = {}
        try:
            for consumer in consumers:
                dead = await channel.get_queue(self.client.topology.dead_queue(consumer.module), ensure=True)
                count = 0
                while (incoming := await dead.get(no_ack=False, fail=False)) is not None:
                    headers = {k: v for k, v in (incoming.headers or {}).items() if k not in (ATTEMPTS, LAST_ERROR)}
                    await send_to_queue(
                        channel,
                        copy_of(incoming, headers),
                        self.client.topology.queue(consumer.module),
                        self.client.timeout,
                    )
                    await incoming.ack()  # after the confirmed copy: a crash in between duplicates, never loses
                    count += 1
                moved[consumer.module] = count
        finally:
            await channel.close()
        return moved


def _ready(queue: AbstractQueue) -> int:
    result = queue.declaration_result
    return int(result.message_count or 0) if result is not None else 0


async def _count(channel: AbstractChannel, name: str) -> int:
    """Messages ready in queue ``name`` (declared if missing: a passive declare of a missing queue would
    close the shared channel)."""
    return _ready(await channel.declare_queue(name, durable=True))
