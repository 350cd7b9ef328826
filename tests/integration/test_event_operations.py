"""Operating the events (issue 15, item 3): the outbox backlog and the relay's lag, replaying dead events,
and the event metrics — on every layout, with RabbitMQ in ``postgres-rabbitmq``."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import accounts as users_accounts
from ecommerce.modules.users import models as users_models
from tests.support import audit_module
from tests.support.audit_module import AuditEntry, Behaviour
from tests.support.polling import eventually


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    """Users and the test-only ``audit`` consumer; an event fails for good on its second attempt."""
    Behaviour.failures_left, Behaviour.calls, Behaviour.poison = 0, 0, set()
    k = Kernel(settings.replace(relay_max_attempts=2), modules={**discover(), "audit": audit_module.module})
    k.migrate()
    yield k
    k.close()
    Behaviour.poison = set()


def register(kernel: Kernel, email: str) -> int:
    return int(kernel.runner.call(users_accounts.register, email, "long-enough-password").id)


def sample(kernel: Kernel, name: str, module: str) -> float:
    value = kernel.event_metrics.registry.get_sample_value(name, {"module": module})
    return value or 0.0


def settle(kernel: Kernel, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Relay (and, with a broker, consume) until ``done()``: broker retries come back after their delay."""
    def settled() -> bool:
        if done():
            return True
        kernel.relay_until_idle()
        return False

    eventually(settled, timeout, what="the events settling")


def test_status_shows_the_oldest_pending_event_and_the_lag_counts_only_due_rows(kernel: Kernel) -> None:
    register(kernel, "old@example.com")
    register(kernel, "backing-off@example.com")
    Outbox = users_models.events.Outbox
    old, backing_off = kernel.runner.call(lambda: [row.id for row in Outbox.select().order_by(Outbox.id)])
    now = utcnow()
    kernel.runner.call(lambda: Outbox.update(occurred_at=now - datetime.timedelta(minutes=5))
                       .where(Outbox.id == old).execute())
    kernel.runner.call(lambda: Outbox.update(occurred_at=now - datetime.timedelta(hours=1),
                                             available_at=now + datetime.timedelta(hours=1))
                       .where(Outbox.id == backing_off).execute())

    state = {s.module: s for s in kernel.outbox_state()}
    assert state["users"].pending == 2
    assert state["users"].oldest_pending is not None and 3600 <= state["users"].oldest_pending < 3700
    assert state["orders"].oldest_pending is None
    lag = kernel.relay_lag()
    assert 300 <= lag["users"] < 400  # the row waiting out its backoff is not the relay's lag
    assert lag["orders"] == 0.0
    scraped = kernel.event_metrics.render().decode()
    assert 'events_relay_lag_seconds{module="users"} 3' in scraped

    kernel.relay_until_idle()
    assert kernel.relay_lag()["users"] == 0.0
    assert {s.module: s for s in kernel.outbox_state()}["users"].pending == 1  # still backing off


def test_a_dead_event_is_counted_then_replayed_and_delivered(kernel: Kernel) -> None:
    """In-process the event is parked in the users outbox; with a broker it is dead-lettered in the audit
    queue. Either way ``replay_dead`` puts it back and, the fault gone, it is delivered once."""
    user_id = register(kernel, "poison@example.com")
    Behaviour.poison = {user_id}
    broker = kernel.consumers is not None
    if broker:
        def buried() -> bool:
            return any(d.module == "audit" and d.dead == 1 for d in kernel.consumers.depths())  # type: ignore[union-attr]
        settle(kernel, buried)
        assert sample(kernel, "events_published_total", "users") == 1
        assert sample(kernel, "events_retried_total", "audit") == 1
        assert sample(kernel, "events_dead_total", "audit") == 1
        assert {s.module: s for s in kernel.outbox_state()}["users"].failed == 0
    else:
        kernel.relay_once()
        kernel.relay_once(now=utcnow() + datetime.timedelta(minutes=10))
        assert sample(kernel, "events_retried_total", "users") == 1
        assert sample(kernel, "events_dead_total", "users") == 1
        assert sample(kernel, "events_published_total", "users") == 0
        assert {s.module: s for s in kernel.outbox_state()}["users"].failed == 1
    assert sample(kernel, "events_consumed_total", "audit") == 0
    assert kernel.runner.call(lambda: AuditEntry.select().count()) == 0  # the failed writes rolled back

    with pytest.raises(ValueError, match="no module named nope"):
        kernel.replay_dead(["nope"])
    Behaviour.poison = set()
    replayed = {r.module: r for r in kernel.replay_dead()}
    if broker:
        assert (replayed["audit"].dead_letters, replayed["users"].parked) == (1, 0)
        assert replayed["users"].dead_letters is None  # users consumes nothing of its own here
    else:
        assert (replayed["users"].parked, replayed["users"].dead_letters) == (1, None)
    assert kernel.replay_dead(["users", "audit"])[0].parked == 0  # nothing left to replay

    settle(kernel, lambda: kernel.runner.call(lambda: AuditEntry.select().count()) == 1)
    kernel.relay_until_idle()
    assert kernel.runner.call(lambda: [e.user_id for e in AuditEntry.select()]) == [user_id]
    assert sample(kernel, "events_consumed_total", "audit") == 1
    assert sample(kernel, "events_published_total", "users") == 1
    state = {s.module: s for s in kernel.outbox_state()}["users"]
    assert (state.pending, state.failed, state.delivered) == (0, 0, 1)
    if broker:
        assert {d.module: d for d in kernel.consumers.depths()}["audit"].dead == 0  # type: ignore[union-attr]


def test_a_failed_batch_is_logged_at_info_and_the_others_still_commit(
    kernel: Kernel, caplog: pytest.LogCaptureFixture
) -> None:
    """At the default INFO level the fallback's log line itself once raised (``module`` is a LogRecord
    attribute), which failed the whole pass: the batch was never delivered."""
    caplog.set_level(logging.INFO, logger="ecommerce.events")
    users = [register(kernel, f"batch{n}@example.com") for n in range(3)]
    Behaviour.poison = {users[1]}
    kernel.relay_until_idle()
    assert kernel.runner.call(lambda: sorted(e.user_id for e in AuditEntry.select())) == [users[0], users[2]]
    fallback = [r for r in caplog.records if r.getMessage() == "event batch failed, processing one at a time"]
    assert [getattr(r, "consumer", None) for r in fallback] == ["audit"]
