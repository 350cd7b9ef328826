"""The relay writes the data lake: before the handlers, once per event, and a failed append is retried
without holding the handlers back (real databases, real files)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import accounts as users_accounts
from ecommerce.modules.users import models as users_models
from tests.support import audit_module
from tests.support.audit_module import AuditEntry, Behaviour


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    Behaviour.failures_left = 0
    Behaviour.calls = 0
    Behaviour.poison = set()
    k = Kernel(settings, modules={**discover(), "audit": audit_module.module})
    k.migrate()
    yield k
    k.close()
    Behaviour.poison = set()


def logged(kernel: Kernel) -> list[str]:
    assert kernel.lake is not None
    return [line for path in kernel.lake.files(["users.UserRegistered.v1"]) for line in path.read_text().splitlines()]


def later(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


def test_the_event_is_logged_before_a_failing_handler_and_only_once(kernel: Kernel) -> None:
    Behaviour.failures_left = 1
    kernel.runner.call(users_accounts.register, "lake@example.com", "long-enough-password")
    first = kernel.relay_once()
    assert first.retried == 1 and len(logged(kernel)) == 1  # in the log although the handler failed
    second = kernel.relay_once(later(5))
    assert second.delivered == 1 and len(logged(kernel)) == 1  # the retry does not log it again
    assert kernel.lake is not None
    [record] = kernel.lake.read(["users.UserRegistered.v1"])
    assert (record.source, record.payload["email"]) == ("users", "lake@example.com")


def test_a_failed_append_is_retried_and_the_handlers_still_run(kernel: Kernel) -> None:
    assert kernel.lake is not None
    kernel.lake.root.parent.mkdir(parents=True, exist_ok=True)
    kernel.lake.root.write_text("not a directory")  # every append now fails
    kernel.runner.call(users_accounts.register, "full@example.com", "long-enough-password")
    report = kernel.relay_once()
    assert report.retried == 1 and report.errors[0].startswith("lake:")
    assert kernel.runner.call(lambda: AuditEntry.select().count()) == 1  # the handler was not held back
    Outbox = users_models.events.Outbox
    assert kernel.runner.call(lambda: Outbox.get().last_error).startswith("lake:")

    kernel.lake.root.unlink()
    again = kernel.relay_once(later(5))
    assert again.delivered == 1 and len(logged(kernel)) == 1
    assert kernel.runner.call(lambda: AuditEntry.select().count()) == 1  # the inbox kept it to once


def test_a_batch_is_logged_before_its_handlers_even_when_one_fails(kernel: Kernel) -> None:
    password = "long-enough-password"
    users = [kernel.runner.call(users_accounts.register, f"lake{n}@example.com", password) for n in range(3)]
    Behaviour.poison = {int(users[1].id)}
    first = kernel.relay_once()
    assert (first.delivered, first.retried) == (2, 1)
    assert len(logged(kernel)) == 3  # all three, the poison event too, before any handler ran
    Behaviour.poison = set()
    assert kernel.relay_once(later(5)).delivered == 1
    assert len(logged(kernel)) == 3  # the retry does not log it again
