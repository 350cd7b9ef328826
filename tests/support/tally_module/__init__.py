"""A test-only consumer of every integration event whose effect is NOT idempotent: each run of one of its
handlers inserts one row.

Every real handler is idempotent as well as deduplicated by its module's inbox (defence in depth), so
their tables cannot show an event applied twice. This module's rows can: only the inbox stands between a
redelivered message and a second row, which is what the broker fault drills
(``tests/e2e/test_broker_faults.py``) count. Each event has an atomic handler (inbox row and effect in one
transaction) and a loose one (``atomic=False``: effect, then inbox row), so both inbox paths are counted.
The loose one breaks the idempotency contract on purpose; the drills never stop a process between its
effect and its inbox row, so a second row there too can only be a redelivery the inbox let through.

A server or ``ecommerce events consume`` process loads it through an entry point
(``tests.support.processes.plugin_env``), as a third-party module would be."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from peewee import AutoField, CharField, DatabaseProxy, Model

import ecommerce.modules
from ecommerce.kernel.events import Envelope, EventTables, IntegrationEvent, Subscription
from ecommerce.kernel.module import Module

database = DatabaseProxy()
events = EventTables("tally", database)


class TallyEntry(Model):
    id = AutoField()
    event_id = CharField(max_length=36)
    handler = CharField(max_length=200)

    class Meta:
        database = database
        table_name = "tally_entry"


def published() -> Iterator[type[IntegrationEvent]]:
    """Every integration event class the application's modules declare (their ``events.py``)."""
    for info in pkgutil.iter_modules(ecommerce.modules.__path__):
        try:
            declared = importlib.import_module(f"ecommerce.modules.{info.name}.events")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(declared, inspect.isclass):
            if issubclass(cls, IntegrationEvent) and cls.__module__ == declared.__name__:
                yield cls


def _counter(handler: str) -> Callable[[Envelope[Any]], None]:
    def count(envelope: Envelope[Any]) -> None:
        TallyEntry.create(event_id=envelope.event_id, handler=handler)

    return count


def subscriptions() -> list[Subscription]:
    found = []
    for event in sorted(published(), key=lambda e: e.key()):
        for atomic, suffix in ((True, ""), (False, ".loose")):
            name = f"tally.{event.key()}{suffix}"
            found.append(Subscription(event, _counter(name), name=name, atomic=atomic))
    return found


module = Module(
    name="tally",
    description="Test-only consumer that counts every handler run (not idempotent on purpose)",
    database=database,
    events=events,
    models=[TallyEntry],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=subscriptions(),
    requires=("users", "catalog", "orders", "payments"),
)
