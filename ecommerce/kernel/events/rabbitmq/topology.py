"""The RabbitMQ objects the events travel through, named from the registry (one place decides names).

For namespace ``ecommerce`` (``ECOMMERCE_EVENT_BROKER_NAMESPACE``)::

    ecommerce.events                       topic exchange; routing key = event key (orders.OrderPlaced.v1)
    ecommerce.<module>                     durable queue of a consuming module, bound to each key it subscribes to
    ecommerce.<module>.retry.<ms>          a failed message waits here <ms> (queue TTL), then dead-letters
                                           back into ecommerce.<module> (one queue per delay: no message
                                           waits behind a longer one; the broker deletes one idle 10 min)
    ecommerce.<module>.dead                dead letters: attempts exhausted, or an envelope nobody can read;
                                           kept until ``ecommerce events replay-dead`` moves them back

Why these choices: a queue per *module* (not per handler) mirrors the inbox, which is per module; a topic
exchange lets a service bind only what it consumes; durable queues and persistent messages survive a
broker restart. Every publisher declares the whole topology it knows, so an event published before its
consumer's process ever started waits in the consumer's queue instead of being dropped as unroutable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractQueue

RETRY_QUEUE_IDLE_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class Topology:
    namespace: str
    #: consuming module -> the routing keys it subscribes to
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    def queue(self, module: str) -> str:
        return f"{self.namespace}.{module}"

    def dead_queue(self, module: str) -> str:
        return f"{self.namespace}.{module}.dead"

    def retry_queue(self, module: str, delay_ms: int) -> str:
        return f"{self.namespace}.{module}.retry.{delay_ms}"

    def queues(self) -> list[str]:
        """Every main and dead-letter queue (retry queues come and go with their delays)."""
        return [name for module in self.routes for name in (self.queue(module), self.dead_queue(module))]

    async def declare(self, channel: AbstractChannel) -> None:
        """Create (or confirm) the exchange, every module's queue with its bindings, and its dead letters."""
        exchange = await channel.declare_exchange(self.exchange, ExchangeType.TOPIC, durable=True)
        for module, keys in self.routes.items():
            queue = await channel.declare_queue(self.queue(module), durable=True)
            for key in sorted(set(keys)):
                await queue.bind(exchange, routing_key=key)
            await channel.declare_queue(self.dead_queue(module), durable=True)

    async def declare_retry(self, channel: AbstractChannel, module: str, delay_ms: int) -> AbstractQueue:
        """The queue where ``module``'s failed messages wait ``delay_ms`` before coming back."""
        return await channel.declare_queue(
            self.retry_queue(module, delay_ms),
            durable=True,
            arguments={
                "x-message-ttl": delay_ms,
                # Deleted by the broker when unused this long (every retry re-declares it first; a
                # message leaves after delay_ms, long before): delays no longer configured vanish.
                "x-expires": delay_ms + RETRY_QUEUE_IDLE_MS,
                "x-dead-letter-exchange": "",  # the default exchange: routing key = queue name
                "x-dead-letter-routing-key": self.queue(module),
            },
        )

    async def delete(self, channel: AbstractChannel, retry_delays_ms: Iterable[int] = ()) -> None:
        """Remove the namespace's exchange and every queue it names (test runs, benchmarks, a shop that
        goes away). Deleting what does not exist is a no-op in RabbitMQ; retry queues whose delays are not
        listed expire on their own (``x-expires``)."""
        for module in self.routes:
            for name in (self.queue(module), self.dead_queue(module),
                         *(self.retry_queue(module, delay) for delay in retry_delays_ms)):
                await channel.queue_delete(name)
        await channel.exchange_delete(self.exchange)
