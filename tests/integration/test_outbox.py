"""The outbox/inbox guarantees, against real databases (SQLite file, file per module, PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events import Consumer, Envelope, Subscription
from ecommerce.kernel.events.background import relay_loop
from ecommerce.kernel.events.relay import Relay
from ecommerce.kernel.events.tables import add_publish_listener, remove_publish_listener
from ecommerce.kernel.events.transport import Delivery, Failures, OutboxEvent, consume, outbox_event
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import accounts as users_accounts
from ecommerce.modules.users import models as users_models
from ecommerce.modules.users.events import UserRegistered
from tests.support import audit_module
from tests.support.audit_module import AuditEntry, Behaviour


def start(settings: Settings) -> Kernel:
    kernel = Kernel(settings, modules={**discover(), "audit": audit_module.module})
    kernel.migrate()
    return kernel


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    Behaviour.failures_left = 0
    Behaviour.calls = 0
    Behaviour.poison = set()
    k = start(settings)
    yield k
    k.close()
    Behaviour.poison = set()


def register(kernel: Kernel, email: str) -> int:
    user = kernel.runner.call(users_accounts.register, email, "long-enough-password")
    return int(user.id)


def entries(kernel: Kernel) -> list[tuple[str, int]]:
    return kernel.runner.call(lambda: list(AuditEntry.select(AuditEntry.event_id, AuditEntry.user_id).tuples()))


def outbox_rows(kernel: Kernel) -> list[dict[str, object]]:
    Outbox = users_models.events.Outbox
    return kernel.runner.call(lambda: list(Outbox.select().dicts()))


def later(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


def test_event_is_delivered_once_to_its_subscriber(kernel: Kernel) -> None:
    user_id = register(kernel, "a@example.com")
    report = kernel.relay_once()
    assert report.delivered == 1 and report.errors == []
    [(event_id, seen_user)] = entries(kernel)
    assert seen_user == user_id
    [row] = outbox_rows(kernel)
    assert row["event_id"] == event_id and row["delivered_at"] is not None
    assert kernel.relay_once().delivered == 0  # nothing left


def test_event_from_a_rolled_back_transaction_is_never_delivered(kernel: Kernel) -> None:
    def publish_then_fail() -> None:
        with users_models.database.atomic():
            users_models.events.publish(UserRegistered(user_id=999, email="ghost@example.com"))
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        kernel.runner.call(publish_then_fail)
    assert outbox_rows(kernel) == []
    assert kernel.relay_once(now=later(3600)).delivered == 0
    assert entries(kernel) == []


def test_publish_outside_a_transaction_is_refused(kernel: Kernel) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        kernel.runner.call(users_models.events.publish, UserRegistered(user_id=1, email="x@example.com"))


def test_event_whose_relay_died_is_delivered_after_restart(kernel: Kernel, settings: Settings) -> None:
    register(kernel, "b@example.com")

    class Died(BaseException):
        pass

    def die(*args: object) -> None:
        raise Died()

    dying = Relay([users_models.events], [], lease_seconds=30)
    dying._deliver = die  # type: ignore[method-assign]
    with pytest.raises(Died):
        kernel.runner.call(dying.run_once)  # claimed the row, then the process "died"
    [row] = outbox_rows(kernel)
    assert row["claimed_until"] is not None and row["delivered_at"] is None
    kernel.close()

    restarted = start(settings)
    try:
        assert restarted.relay_once().delivered == 0  # the dead relay's lease still holds
        assert restarted.relay_once(now=later(31)).delivered == 1
        assert len(entries(restarted)) == 1
    finally:
        restarted.close()


def test_duplicate_delivery_is_processed_once(kernel: Kernel) -> None:
    register(kernel, "c@example.com")
    assert kernel.relay_once().delivered == 1
    assert Behaviour.calls == 1
    # A relay that crashed after the handler committed but before marking the row delivered:
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())
    assert kernel.relay_once().delivered == 1
    assert Behaviour.calls == 1  # the inbox skipped the handler
    assert len(entries(kernel)) == 1


def test_concurrent_relays_deliver_each_event_once(kernel: Kernel) -> None:
    for n in range(12):
        register(kernel, f"many{n}@example.com")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            barrier.wait()
            kernel.relay_once()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=relay) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    kernel.relay_once(now=later(60))  # anything a lost claim left behind
    found = entries(kernel)
    assert len(found) == 12
    assert len({event_id for event_id, _ in found}) == 12
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: Inbox.select().count()) == 12


def test_failing_handler_is_retried_with_backoff_and_its_writes_undone(kernel: Kernel) -> None:
    register(kernel, "d@example.com")
    Behaviour.failures_left = 1
    report = kernel.relay_once()
    assert report.retried == 1 and "audit store unavailable" in report.errors[0]
    assert entries(kernel) == []  # the handler's write rolled back with its inbox row
    [row] = outbox_rows(kernel)
    assert row["attempts"] == 1 and row["delivered_at"] is None
    assert "audit store unavailable" in str(row["last_error"])
    assert kernel.relay_once().delivered == 0  # backing off
    assert kernel.relay_once(now=later(2)).delivered == 1
    assert len(entries(kernel)) == 1


def test_event_is_parked_after_the_last_attempt(settings: Settings) -> None:
    Behaviour.failures_left = 100
    kernel = start(settings.replace(relay_max_attempts=3))
    try:
        register(kernel, "e@example.com")
        reports = [kernel.relay_once(now=later(600 * n)) for n in range(4)]
        assert [r.retried for r in reports] == [1, 1, 0, 0]
        assert [r.failed for r in reports] == [0, 0, 1, 0]
        state = {s.module: s for s in kernel.outbox_state()}["users"]
        assert (state.pending, state.failed, state.delivered) == (0, 1, 0)
    finally:
        Behaviour.failures_left = 0
        kernel.close()


def test_a_batch_is_claimed_delivered_and_marked_in_one_pass(kernel: Kernel) -> None:
    for n in range(5):
        register(kernel, f"batch{n}@example.com")
    report = kernel.relay_once()
    assert (report.delivered, report.retried, report.failed) == (5, 0, 0)
    rows = outbox_rows(kernel)
    assert all(r["delivered_at"] is not None and r["attempts"] == 1 and r["claimed_until"] is None for r in rows)
    assert len(entries(kernel)) == 5 and Behaviour.calls == 5


def test_a_redelivered_batch_is_processed_once(kernel: Kernel) -> None:
    for n in range(3):
        register(kernel, f"again{n}@example.com")
    assert kernel.relay_once().delivered == 3
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())  # a relay that died before marking
    assert kernel.relay_once().delivered == 3
    assert Behaviour.calls == 3  # the batch's inbox lookup skipped all three handlers
    assert len(entries(kernel)) == 3


def test_a_poison_event_does_not_hold_the_batch_back(kernel: Kernel) -> None:
    ids = [register(kernel, f"poison{n}@example.com") for n in range(3)]
    Behaviour.poison = {ids[1]}
    report = kernel.relay_once()
    assert (report.delivered, report.retried) == (2, 1)  # the batch failed, one at a time saved the others
    assert "poison event" in report.errors[0]
    assert sorted(user for _, user in entries(kernel)) == [ids[0], ids[2]]  # the poison's write rolled back
    poisoned = [r for r in outbox_rows(kernel) if r["delivered_at"] is None]
    assert len(poisoned) == 1 and poisoned[0]["attempts"] == 1 and "poison event" in str(poisoned[0]["last_error"])
    assert kernel.relay_once().delivered == 0  # backing off
    Behaviour.poison = set()
    assert kernel.relay_once(now=later(2)).delivered == 1
    assert sorted(user for _, user in entries(kernel)) == sorted(ids)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SKIP LOCKED is PostgreSQL's; SQLite has one writer
def test_the_claim_skips_rows_another_relay_holds_on_postgres(kernel: Kernel, settings: Settings) -> None:
    assert is_postgres(users_models.database)
    for n in range(3):
        register(kernel, f"locked{n}@example.com")
    other = psycopg2.connect(settings.database_url, options="-c search_path=users")
    try:
        with other.cursor() as cur:  # another relay in the middle of its claim: the oldest row is locked
            cur.execute("SELECT id FROM users_outbox ORDER BY id LIMIT 1 FOR UPDATE")
            reports: list[object] = []
            relay = threading.Thread(target=lambda: reports.append(kernel.relay_once()))
            relay.start()
            relay.join(timeout=20)
            assert not relay.is_alive(), "the claim waited for the locked row instead of skipping it"
            assert [r.delivered for r in reports] == [2]  # type: ignore[attr-defined]
        other.rollback()
    finally:
        other.close()
    assert kernel.relay_once().delivered == 1
    assert len(entries(kernel)) == 3


class HalfTransport:
    """A transport (a broker, say) that confirms every other event and reports the rest as failed."""

    def __init__(self) -> None:
        self.seen: list[OutboxEvent] = []

    def publish(self, events: Sequence[OutboxEvent]) -> Failures:
        self.seen.extend(events)
        return {e.row_id: ["broker: not confirmed"] for e in events[1::2]}


def test_the_relay_marks_only_what_the_transport_confirmed(kernel: Kernel) -> None:
    for n in range(4):
        register(kernel, f"transport{n}@example.com")
    transport = HalfTransport()
    relay = Relay([users_models.events], [], transport=transport)
    report = kernel.runner.call(relay.run_once)
    assert (report.delivered, report.retried) == (2, 2)
    assert [e.key for e in transport.seen] == ["users.UserRegistered.v1"] * 4
    assert [e.source for e in transport.seen] == ["users"] * 4
    rows = sorted(outbox_rows(kernel), key=lambda r: int(r["id"]))  # type: ignore[call-overload]
    assert [r["delivered_at"] is not None for r in rows] == [True, False, True, False]
    assert all(r["last_error"] == "broker: not confirmed" for r in rows[1::2])
    assert entries(kernel) == []  # the in-process subscribers were not involved


def test_a_commit_that_publishes_wakes_the_relay_once(kernel: Kernel) -> None:
    wakes: list[frozenset[str]] = []

    def listener(modules: frozenset[str]) -> None:
        wakes.append(modules)

    def publish_two(fail: bool) -> None:
        before = len(wakes)
        with users_models.database.atomic():
            users_models.events.publish(UserRegistered(user_id=1, email="one@example.com"))
            users_models.events.publish(UserRegistered(user_id=2, email="two@example.com"))
            assert len(wakes) == before  # not before the commit: the relay would not see the rows yet
            if fail:
                raise RuntimeError("rolled back")

    add_publish_listener(listener)
    try:
        kernel.runner.call(publish_two, False)
        assert wakes == [{"users"}]  # once per transaction, right at its commit, naming the outbox
        with pytest.raises(RuntimeError):
            kernel.runner.call(publish_two, True)
        assert wakes == [{"users"}]  # a rollback wakes nobody
    finally:
        remove_publish_listener(listener)


def test_a_woken_relay_looks_only_at_the_outboxes_that_committed(settings: Settings) -> None:
    kernel = start(settings.replace(relay_batch_size=2))
    try:
        kernel.relay_until_idle()  # whatever the migrations left
        assert kernel.runner.call(kernel.relay.run_hinted).delivered == 0 and not kernel.relay.hinted
        for n in range(3):
            register(kernel, f"hint{n}@example.com")
        assert kernel.relay.hinted  # the commits named the users outbox
        first = kernel.runner.call(kernel.relay.run_hinted)
        assert first.delivered == 2 and kernel.relay.hinted  # a full batch: look again
        assert kernel.runner.call(kernel.relay.run_hinted).delivered == 1
        assert not kernel.relay.hinted and len(entries(kernel)) == 3
    finally:
        kernel.close()


def test_non_atomic_handlers_of_a_batch_run_once_each_and_a_failure_alone_is_retried(kernel: Kernel) -> None:
    ran: list[int] = []
    failing: set[int] = set()

    def loose(envelope: Envelope[UserRegistered]) -> None:  # idempotent by contract, outside any transaction
        if envelope.event.user_id in failing:
            raise RuntimeError("mail server down")
        ran.append(envelope.event.user_id)

    consumer = Consumer("audit", audit_module.events, [Subscription(UserRegistered, loose, "audit.loose", False)])
    relay = Relay([users_models.events], [consumer])
    ids = [register(kernel, f"loose{n}@example.com") for n in range(3)]
    failing.add(ids[2])
    report = kernel.runner.call(relay.run_once)
    assert (report.delivered, report.retried) == (2, 1) and sorted(ran) == ids[:2]
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: Inbox.select().where(Inbox.handler == "audit.loose").count()) == 2
    failing.clear()
    assert kernel.runner.call(relay.run_once, later(2)).delivered == 1
    assert sorted(ran) == ids  # only the failed one ran again
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())  # redelivered: the inbox skips all
    assert kernel.runner.call(relay.run_once, later(5)).delivered == 3 and sorted(ran) == ids


def test_two_copies_of_an_event_in_one_batch_run_each_handler_once(kernel: Kernel) -> None:
    """What a broker consumer can receive after a reconnect: the original and the relay's second publish
    of one event side by side in one batch. Neither an atomic nor a non-atomic handler runs twice."""
    ran: list[str] = []

    def loose(envelope: Envelope[UserRegistered]) -> None:
        ran.append(envelope.event_id)

    consumer = Consumer("audit", audit_module.events, [
        Subscription(UserRegistered, audit_module.record, "audit.once"),
        Subscription(UserRegistered, loose, "audit.loose", False),
    ])
    register(kernel, "copies@example.com")
    row = kernel.runner.call(lambda: users_models.events.Outbox.get())
    copies = [outbox_event(row, "users"), outbox_event(row, "users")]
    deliveries = [Delivery(copy, sub) for copy in copies for sub in consumer.subscriptions]
    assert kernel.runner.call(consume, consumer, deliveries) == {}
    assert ran == [row.event_id]
    assert [event_id for event_id, _ in entries(kernel)] == [row.event_id]
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: sorted(Inbox.select(Inbox.handler).tuples())) == [("audit.loose",),
                                                                                        ("audit.once",)]


def test_a_batch_handler_gets_a_batch_s_events_in_one_call_and_a_poison_one_alone(kernel: Kernel) -> None:
    """An atomic subscription with ``batch``: one call for the batch's events (in outbox order), in the inbox
    transaction; a failing call rolls the batch back and each event goes through ``handler`` alone, so only
    the poison one is retried. A redelivered batch runs nothing again (the inbox)."""
    calls: list[list[int]] = []

    def many(envelopes: Sequence[Envelope[UserRegistered]]) -> None:
        calls.append([e.event.user_id for e in envelopes])
        for envelope in envelopes:
            audit_module.record(envelope)

    consumer = Consumer("audit", audit_module.events,
                        [Subscription(UserRegistered, audit_module.record, "audit.batched", batch=many)])
    relay = Relay([users_models.events], [consumer])
    ids = [register(kernel, f"batched{n}@example.com") for n in range(4)]
    Behaviour.poison = {ids[2]}
    report = kernel.runner.call(relay.run_once)
    assert (report.delivered, report.retried) == (3, 1)
    assert calls == [ids]  # one call for the batch; then one at a time through ``handler``
    assert sorted(user for _, user in entries(kernel)) == [ids[0], ids[1], ids[3]]
    Behaviour.poison = set()
    assert kernel.runner.call(relay.run_once, later(2)).delivered == 1
    assert sorted(user for _, user in entries(kernel)) == ids
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())
    assert kernel.runner.call(relay.run_once, later(5)).delivered == 4
    assert len(entries(kernel)) == 4 and len(calls) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_non_atomic_batch_handler_runs_once_for_the_unseen_events_and_falls_back_one_at_a_time(
        kernel: Kernel) -> None:
    batches: list[list[int]] = []
    ran: list[int] = []
    failing: set[int] = set()

    def one(envelope: Envelope[UserRegistered]) -> None:
        if envelope.event.user_id in failing:
            raise RuntimeError("mail server down")
        ran.append(envelope.event.user_id)

    def many(envelopes: Sequence[Envelope[UserRegistered]]) -> None:
        batches.append([e.event.user_id for e in envelopes])
        for envelope in envelopes:
            one(envelope)

    consumer = Consumer("audit", audit_module.events,
                        [Subscription(UserRegistered, one, "audit.loose-batch", False, batch=many)])
    relay = Relay([users_models.events], [consumer])
    ids = [register(kernel, f"loosebatch{n}@example.com") for n in range(3)]
    assert kernel.runner.call(relay.run_once).delivered == 3
    assert batches == [ids] and ran == ids
    more = [register(kernel, f"loosebatch-more{n}@example.com") for n in range(3)]
    failing.add(more[1])
    report = kernel.runner.call(relay.run_once)
    assert (report.delivered, report.retried) == (2, 1)
    assert batches == [ids, more]  # the failed call, then one at a time (idempotent: more[0] ran twice)
    assert sorted(set(ran)) == sorted([*ids, more[0], more[2]])
    failing.clear()
    assert kernel.runner.call(relay.run_once, later(2)).delivered == 1
    assert sorted(set(ran)) == sorted(ids + more)
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: Inbox.select().where(Inbox.handler == "audit.loose-batch").count()) == 6


def test_a_batch_larger_than_the_compiled_statements_is_recorded_and_deduplicated(kernel: Kernel) -> None:
    """More inbox rows than one compiled statement holds (50) go in chunks: all recorded, none twice."""

    def publish_many() -> None:
        with users_models.database.atomic():
            for n in range(60):
                users_models.events.publish(UserRegistered(user_id=10_000 + n, email=f"many{n}@example.com"))

    kernel.runner.call(publish_many)
    assert kernel.relay_once().delivered == 60
    assert len(entries(kernel)) == 60 and Behaviour.calls == 60
    Outbox = users_models.events.Outbox
    kernel.runner.call(lambda: Outbox.update(delivered_at=None).execute())
    assert kernel.relay_once().delivered == 60
    assert Behaviour.calls == 60  # the chunked inbox lookup found all sixty
    Inbox = audit_module.events.Inbox
    assert kernel.runner.call(lambda: Inbox.select().count()) == 60


def test_a_busy_relay_lingers_so_the_next_events_join_its_batch(kernel: Kernel) -> None:
    """``ECOMMERCE_RELAY_LINGER``: the first event after a quiet pass goes at once; while events keep coming,
    a wake-up waits the linger, so the commits made meanwhile are delivered in one pass."""
    passes: list[int] = []
    hinted = kernel.relay.run_hinted

    def counted(now: datetime.datetime | None = None) -> Any:
        report = hinted(now)
        passes.append(report.delivered)
        return report

    kernel.relay.run_hinted = counted  # type: ignore[method-assign]

    def publish(n: int) -> None:
        with users_models.database.atomic():
            users_models.events.publish(UserRegistered(user_id=20_000 + n, email=f"linger{n}@example.com"))

    async def until(delivered: int) -> None:
        for _ in range(200):
            if sum(passes) >= delivered:
                return
            await asyncio.sleep(0.02)

    async def scenario() -> None:
        task = asyncio.create_task(relay_loop(kernel, 60.0, linger=1.0))
        try:
            await asyncio.sleep(0.2)  # the first full pass: nothing
            started = time.monotonic()
            await kernel.runner.run(publish, 0)
            await until(1)
            assert passes == [1] and time.monotonic() - started < 0.9  # quiet before: at once
            for n in range(1, 4):  # three commits, each waking the relay
                await kernel.runner.run(publish, n)
            await until(4)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert passes == [1, 3]  # the busy relay lingered: the three commits' events in one pass
