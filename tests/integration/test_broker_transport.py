"""The RabbitMQ transport's guarantees, against a real broker and PostgreSQL (layout ``postgres-rabbitmq``).

The in-process transport's equivalents are in ``test_outbox.py``; here the same promises are checked where
they are kept differently: a row is delivered once the broker *confirmed* it, the consuming module's
queue holds it until its inbox transaction commits, failures wait in a retry queue and end in the dead
letters, never acked as if they had worked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aio_pika import Message

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events.rabbitmq import QueueDepth
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import models as users_models
from tests.integration.test_outbox import entries, later, outbox_rows, register, start
from tests.support import audit_module, databases
from tests.support.audit_module import Behaviour
from tests.support.polling import eventually
from tests.support.processes import free_port

pytestmark = pytest.mark.parametrize("backend", [databases.BROKER_LAYOUT], indirect=True)


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    Behaviour.failures_left = 0
    Behaviour.calls = 0
    Behaviour.poison = set()
    # Retries wait 2 s (then 4 s ...): long enough that a check right after a failure sees it waiting.
    k = start(settings.replace(event_retry_base=2.0))
    yield k
    k.close()
    Behaviour.failures_left = 0
    Behaviour.poison = set()


def audit_queue(kernel: Kernel) -> QueueDepth:
    assert kernel.consumers is not None
    return {d.module: d for d in kernel.consumers.depths()}["audit"]


def drain(kernel: Kernel) -> int:
    assert kernel.consumers is not None
    return kernel.consumers.drain(["audit"]).handled


def test_events_leave_the_process_and_wait_in_the_consumer_s_queue(kernel: Kernel) -> None:
    ids = [register(kernel, f"q{n}@example.com") for n in range(5)]
    report = kernel.relay_once()
    assert (report.delivered, report.retried, report.failed) == (5, 0, 0)  # confirmed by the broker
    assert all(row["delivered_at"] is not None for row in outbox_rows(kernel))
    assert entries(kernel) == []  # nothing ran in the relay: the events are in the broker
    assert audit_queue(kernel).ready == 5
    assert drain(kernel) == 5
    assert sorted(user for _, user in entries(kernel)) == sorted(ids)
    assert audit_queue(kernel) == QueueDepth("audit", 0, 0, 0)
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: Inbox.select().count()) == 5


def test_a_message_delivered_twice_is_processed_once(kernel: Kernel) -> None:
    register(kernel, "twice@example.com")
    kernel.relay_until_idle()
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())  # a relay that died before marking
    report = kernel.relay_until_idle()
    assert report.delivered == 1  # published again...
    assert Behaviour.calls == 1 and len(entries(kernel)) == 1  # ...and dropped by the inbox
    assert audit_queue(kernel).ready == 0


def test_a_failing_handler_is_retried_after_its_delay_and_its_writes_undone(kernel: Kernel) -> None:
    register(kernel, "retry@example.com")
    Behaviour.failures_left = 1
    report = kernel.relay_until_idle()
    assert report.retried == 1 and "audit store unavailable" in report.errors[0]
    assert entries(kernel) == []  # the handler's write rolled back with its inbox row
    assert audit_queue(kernel) == QueueDepth("audit", 0, 1, 0)  # waiting out its delay, not acked as done
    eventually(lambda: audit_queue(kernel).retrying == 0)  # the delay ends: back in the module's queue
    assert drain(kernel) == 1
    assert len(entries(kernel)) == 1 and Behaviour.calls == 2


def test_after_the_last_attempt_the_message_is_dead_lettered_and_can_be_replayed(settings: Settings) -> None:
    Behaviour.failures_left = 100
    Behaviour.calls = 0
    kernel = start(settings.replace(relay_max_attempts=3))
    try:
        register(kernel, "dead@example.com")
        kernel.relay_until_idle()
        eventually(lambda: drain(kernel) == 0 and audit_queue(kernel).dead == 1)
        assert Behaviour.calls == 3 and entries(kernel) == []  # three attempts, no effect, not acked as done
        assert audit_queue(kernel) == QueueDepth("audit", 0, 0, 1)
        Behaviour.failures_left = 0
        assert kernel.consumers is not None and kernel.consumers.replay_dead(["audit"]) == {"audit": 1}
        assert drain(kernel) == 1
        assert len(entries(kernel)) == 1 and audit_queue(kernel) == QueueDepth("audit", 0, 0, 0)
    finally:
        Behaviour.failures_left = 0
        kernel.close()


def test_a_poison_message_does_not_hold_the_batch_back(kernel: Kernel) -> None:
    ids = [register(kernel, f"poison{n}@example.com") for n in range(3)]
    Behaviour.poison = {ids[1]}
    report = kernel.relay_until_idle()
    # Retried at least once: its retry delay (0.05 s here) may end, and the poison fail again, within
    # the same drain on a busy machine. Never dead-lettered, and only the poison failed.
    assert report.retried >= 1 and report.failed == 0
    assert report.errors and all("poison event for user" in error for error in report.errors)
    assert sorted(user for _, user in entries(kernel)) == [ids[0], ids[2]]
    Behaviour.poison = set()
    eventually(lambda: audit_queue(kernel).retrying == 0)
    assert drain(kernel) == 1
    assert sorted(user for _, user in entries(kernel)) == sorted(ids)


def test_an_unreadable_message_is_dead_lettered_at_once(kernel: Kernel) -> None:
    assert kernel.broker is not None
    broker = kernel.broker

    async def send_garbage() -> None:
        channel = await broker.channel()
        await channel.default_exchange.publish(Message(b"{not json"), routing_key=broker.topology.queue("audit"))

    broker.call(send_garbage())
    register(kernel, "fine@example.com")
    kernel.relay_until_idle()
    assert len(entries(kernel)) == 1  # the readable event went through
    assert audit_queue(kernel) == QueueDepth("audit", 0, 0, 1)


def test_an_unreachable_broker_keeps_events_in_the_outbox_and_never_parks_them(settings: Settings) -> None:
    down = start(settings.replace(event_broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                                  relay_max_attempts=2))
    try:
        register(down, "outage@example.com")
        for minutes in range(0, 50, 10):  # many passes, far more than relay_max_attempts
            report = down.relay_once(now=later(60 * minutes))
            assert report.delivered == 0 and report.failed == 0
        [row] = outbox_rows(down)
        assert row["delivered_at"] is None and row["failed_at"] is None  # waiting, not parked
        assert str(row["last_error"]).startswith("unreachable:")
    finally:
        down.close()
    up = start(settings)
    try:
        up.relay_until_idle()  # nothing due yet: the outage's backoff still runs
        report = up.relay_once(now=later(3600))
        assert report.delivered == 1
        drain(up)
        assert len(entries(up)) == 1
    finally:
        up.close()


def test_a_message_is_never_acked_when_its_dead_letter_queue_is_gone(settings: Settings) -> None:
    Behaviour.failures_left = 100
    once = settings.replace(relay_max_attempts=1)  # the first failure goes to the dead letters
    kernel = start(once)
    try:
        register(kernel, "nowhere@example.com")
        kernel.relay_once()
        assert kernel.broker is not None
        broker = kernel.broker

        async def delete_dead_letters() -> None:
            channel = await broker.channel()
            await channel.queue_delete(broker.topology.dead_queue("audit"))

        broker.call(delete_dead_letters())
        assert kernel.consumers is not None
        report = kernel.consumers.drain(["audit"])
        assert report.dead == 0 and entries(kernel) == []  # unroutable copy: the original stays unacked
    finally:
        kernel.close()  # its channel closes: the broker puts the unacked message back
    Behaviour.failures_left = 0
    again = start(once)  # declares the topology again, dead-letter queue included
    try:
        assert audit_queue(again) == QueueDepth("audit", 1, 0, 0)
        assert drain(again) == 1 and len(entries(again)) == 1
    finally:
        again.close()
