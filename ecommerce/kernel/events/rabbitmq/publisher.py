"""The relay's RabbitMQ transport: publish a batch of outbox rows with publisher confirms.

A row counts as delivered only when the broker confirmed its message (``Basic.Ack``: the message is
persisted in every queue it was routed to). Anything else — no connection, a ``Basic.Nack``, a lost
confirm — leaves the row undelivered, so the relay publishes it again later. That can duplicate a
message the broker did take; the message id is the event id, and every consumer's inbox drops the
second copy. Failures that only mean "the broker is not there" are marked :data:`UNREACHABLE`, so the
relay retries them for as long as the outage lasts instead of parking the events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aio_pika
from aio_pika import DeliveryMode, Message

from ecommerce.kernel.events.envelope import CONTENT_TYPE, encode
from ecommerce.kernel.events.rabbitmq.connection import BrokerClient, BrokerUnavailable
from ecommerce.kernel.events.transport import UNREACHABLE, Failures, OutboxEvent

log = logging.getLogger("ecommerce.events.broker")


def message(event: OutboxEvent) -> Message:
    """The AMQP message of an event: its envelope, persistent, the event id as the message id."""
    return Message(
        encode(event),
        message_id=event.event_id,
        content_type=CONTENT_TYPE,
        delivery_mode=DeliveryMode.PERSISTENT,
        timestamp=event.occurred_at,
        type=event.key,
        app_id=event.source,
    )


class RabbitTransport:
    """``Transport`` for the relay: the batch goes to the ``<namespace>.events`` exchange."""

    def __init__(self, client: BrokerClient) -> None:
        self.client = client

    def publish(self, events: Sequence[OutboxEvent]) -> Failures:
        try:
            return self.client.call(self._publish(events))
        except BrokerUnavailable as exc:
            log.warning("broker unavailable, events stay in the outbox", extra={"error": str(exc)})
            return {event.row_id: [f"{UNREACHABLE} {exc}"] for event in events}

    async def _publish(self, events: Sequence[OutboxEvent]) -> Failures:
        channel = await self.client.channel()
        exchange = await channel.get_exchange(self.client.topology.exchange, ensure=False)

        async def one(event: OutboxEvent) -> str | None:
            try:
                # mandatory=False: an event nobody subscribes to is not an error.
                await exchange.publish(message(event), routing_key=event.key, mandatory=False,
                                       timeout=self.client.timeout)
            except aio_pika.exceptions.DeliveryError as exc:  # Basic.Nack: the broker refused it
                return f"broker refused the message: {exc!r}"
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError, RuntimeError) as exc:
                return f"{UNREACHABLE} {exc!r}"
            return None

        # Confirms are asynchronous: all of the batch is in flight at once, then every confirm is awaited.
        results = await asyncio.gather(*(one(event) for event in events))
        return {event.row_id: [error] for event, error in zip(events, results, strict=True) if error}
