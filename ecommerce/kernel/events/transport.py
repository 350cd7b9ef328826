"""The seam between the relay and the subscribers: a ``Transport`` takes a batch of outbox rows and says
which it delivered.

Why a seam: the relay's own job (claim due rows, write the lake, mark or retry) does not change when the
events leave the process. ``InProcessTransport`` (the embedded default) runs the subscribers right here;
``rabbitmq.RabbitTransport`` publishes the batch with confirms and reports the confirmed rows, while each
consuming module's process calls :func:`consume` for what it receives from its queue.

``consume`` is where a batch meets a module's inbox: the module's atomic subscriptions process the whole
batch in one inbox transaction (one commit instead of one per event), and if any handler fails that
transaction rolls back and the events are processed one at a time, so one poison event never holds the
others back. A subscription with a ``batch`` handler gets its events of a batch in one call (one read of
another module for them all, one multi-row write), atomic or not; after a failure, one at a time again.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from ecommerce.kernel.events.event import Envelope, Subscription
from ecommerce.kernel.events.tables import EventTables

log = logging.getLogger("ecommerce.events")


@dataclass(frozen=True)
class Consumer:
    """A module that handles events: its inbox and its subscriptions."""

    module: str
    tables: EventTables
    subscriptions: Sequence[Subscription]


@dataclass(frozen=True)
class OutboxEvent:
    """One outbox row on its way out: what a transport needs, nothing of the table."""

    row_id: int  # the row in ``source``'s outbox (what the relay marks)
    event_id: str
    key: str  # routing key, ``name.v<version>``
    version: int
    occurred_at: datetime.datetime
    source: str
    payload: dict[str, Any]


#: Errors per outbox row id; a row that is absent (or has no errors) was delivered (confirmed).
Failures = dict[int, list[str]]
#: Prefix of an error that only says the transport was unreachable: the relay retries such a row for as
#: long as the outage lasts and never parks it (the event did nothing wrong).
UNREACHABLE = "unreachable:"


class Transport(Protocol):
    def publish(self, events: Sequence[OutboxEvent]) -> Failures:
        """Deliver (or hand over) ``events``; return the rows that failed and why."""
        ...


@dataclass(frozen=True)
class Delivery:
    event: OutboxEvent
    subscription: Subscription

    def envelope(self) -> Envelope[Any]:
        return Envelope(
            event_id=self.event.event_id,
            source=self.event.source,
            occurred_at=self.event.occurred_at,
            event=self.subscription.event.from_payload(self.event.payload),
        )


def consume(consumer: Consumer, deliveries: Sequence[Delivery]) -> Failures:
    """Run ``consumer``'s handlers for ``deliveries`` (in order) through its inbox; returns failures."""
    failures: Failures = {}
    atomic = [d for d in deliveries if d.subscription.atomic]
    if len(atomic) > 1 and _batch(consumer, atomic):
        atomic = []
    for delivery in atomic:  # one at a time: a batch of one, or the fallback after a failed batch
        _one(consumer, delivery, consumer.tables.process_atomically, failures)
    others = [d for d in deliveries if not d.subscription.atomic]
    if len(others) == 1:
        _one(consumer, others[0], consumer.tables.process_then_record, failures)
    elif others:
        _idempotent_batch(consumer, others, failures)
    return failures


def _idempotent_batch(consumer: Consumer, deliveries: Sequence[Delivery], failures: Failures) -> None:
    """``process_then_record`` for a batch: one inbox lookup first, each handler outside any transaction,
    then one insert of the inbox rows of those that returned. A crash before that insert runs them again,
    which non-atomic handlers accept by contract (they are idempotent).

    A batch from a broker can hold two copies of one event (a publish whose confirm was lost went out
    again, and both copies waited in the queue while the consumer reconnected): the second copy is
    skipped like an inbox hit, not run again (a failure of the first is retried through the first)."""
    tables = consumer.tables
    seen = tables.seen_pairs([(d.event.event_id, d.subscription.handler_name) for d in deliveries])
    fresh: list[Delivery] = []
    for delivery in deliveries:
        pair = (delivery.event.event_id, delivery.subscription.handler_name)
        if pair not in seen:
            seen.add(pair)
            fresh.append(delivery)
    done: list[tuple[str, str]] = []
    try:
        for group in _groups(fresh):
            if len(group) > 1 and _batch_call(consumer, group):
                done += [(d.event.event_id, d.subscription.handler_name) for d in group]
                continue
            for delivery in group:  # one at a time: no batch handler, or after its batch failed
                if _one(consumer, delivery, _run, failures):
                    done.append((delivery.event.event_id, delivery.subscription.handler_name))
    finally:
        tables.record(done)


def _groups(deliveries: Sequence[Delivery]) -> list[list[Delivery]]:
    """``deliveries`` in calls: a subscription with a ``batch`` handler gets all its events in one group
    (outbox order), placed where its first event was; every other delivery is a group of its own."""
    groups: list[list[Delivery]] = []
    batched: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        sub = delivery.subscription
        if sub.batch is None:
            groups.append([delivery])
        elif sub.handler_name in batched:
            batched[sub.handler_name].append(delivery)
        else:
            batched[sub.handler_name] = [delivery]
            groups.append(batched[sub.handler_name])
    return groups


def _call(group: Sequence[Delivery]) -> None:
    """One group's effect: its batch handler once, or its one handler."""
    sub = group[0].subscription
    if sub.batch is not None and len(group) > 1:
        sub.batch([d.envelope() for d in group])
    else:
        for delivery in group:
            sub.handler(delivery.envelope())


def _batch_call(consumer: Consumer, group: Sequence[Delivery]) -> bool:
    """A non-atomic batch handler for ``group``; False if it raised (the caller goes one at a time: the
    handler is idempotent by contract, so what the failed call did is safe to do again)."""
    try:
        _call(group)
    except Exception as exc:
        log.info("event batch handler failed, processing one at a time",
                 extra={"consumer": consumer.module, "events": len(group), "error": repr(exc)})
        return False
    return True


def _run(event_id: str, handler: str, effect: Any) -> None:
    effect()


def _batch(consumer: Consumer, deliveries: Sequence[Delivery]) -> bool:
    """All of ``deliveries`` in one inbox transaction; False (nothing committed) if any handler failed."""
    def run(fresh: list[int]) -> None:
        for group in _groups([deliveries[i] for i in fresh]):
            _call(group)

    try:
        consumer.tables.process_batch(
            [(d.event.event_id, d.subscription.handler_name, partial(_call, [d])) for d in deliveries], run,
        )
    except Exception as exc:  # retried one by one, which tells the poison event from the others
        log.info(
            "event batch failed, processing one at a time",
            extra={"consumer": consumer.module, "events": len(deliveries), "error": repr(exc)},
        )
        return False
    return True


def _one(consumer: Consumer, delivery: Delivery, process: Any, failures: Failures) -> bool:
    """Run one handler through ``process``; False (and the error noted) if it raised."""
    sub = delivery.subscription
    try:
        process(delivery.event.event_id, sub.handler_name, partial(sub.handler, delivery.envelope()))
    except Exception as exc:  # a handler's failure must not stop the others
        log.warning(
            "event handler failed",
            extra={"event": delivery.event.key, "handler": sub.handler_name, "error": repr(exc)},
        )
        failures.setdefault(delivery.event.row_id, []).append(f"{sub.handler_name}: {exc!r}")
        return False
    return True


class InProcessTransport:
    """Delivers to the subscribers in this process: each consuming module gets the batch's events it
    subscribes to, in outbox order, through :func:`consume`. ``on_consumed(module, events)`` is told how
    many events each module processed without a failure (the event metrics)."""

    def __init__(self, consumers: Iterable[Consumer], on_consumed: Callable[[str, int], None] | None = None) -> None:
        self.consumers = list(consumers)
        self.on_consumed = on_consumed
        self.routes: dict[str, list[tuple[Consumer, Subscription]]] = {}
        for consumer in self.consumers:
            for sub in consumer.subscriptions:
                self.routes.setdefault(sub.event.key(), []).append((consumer, sub))

    def publish(self, events: Sequence[OutboxEvent]) -> Failures:
        per_consumer: dict[str, tuple[Consumer, list[Delivery]]] = {}
        for event in events:
            for consumer, sub in self.routes.get(event.key, []):
                per_consumer.setdefault(consumer.module, (consumer, []))[1].append(Delivery(event, sub))
        failures: Failures = {}
        for consumer, deliveries in per_consumer.values():
            failed = consume(consumer, deliveries)
            for row_id, errors in failed.items():
                failures.setdefault(row_id, []).extend(errors)
            if self.on_consumed is not None:
                self.on_consumed(consumer.module, len({d.event.row_id for d in deliveries} - set(failed)))
        return failures


def outbox_event(row: Any, source: str) -> OutboxEvent:
    """The transport's view of an outbox row."""
    return OutboxEvent(
        row_id=row.id,
        event_id=row.event_id,
        key=row.name,
        version=row.version,
        occurred_at=row.occurred_at,
        source=source,
        payload=json.loads(row.payload),
    )
