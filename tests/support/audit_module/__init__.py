"""A tiny third-party-style module used by the tests: it consumes ``users.UserRegistered`` into its own
table. It proves the module contract from the outside (no code in ``ecommerce`` knows it) and gives
the outbox tests a real consumer whose handler can be made to fail."""

from __future__ import annotations

from pathlib import Path

from peewee import AutoField, CharField, DatabaseProxy, IntegerField, Model

from ecommerce.kernel.events import Envelope, EventTables, Subscription
from ecommerce.kernel.module import Module
from ecommerce.modules.users.events import UserRegistered

database = DatabaseProxy()
events = EventTables("audit", database)


class AuditEntry(Model):
    id = AutoField()
    event_id = CharField(max_length=36)
    user_id = IntegerField()

    class Meta:
        database = database
        table_name = "audit_entry"


class Behaviour:
    """Switches the tests flip to make the handler fail."""

    failures_left = 0
    calls = 0
    poison: set[int] = set()  # user ids whose event always fails (a poison event)


def record(envelope: Envelope[UserRegistered]) -> None:
    Behaviour.calls += 1
    AuditEntry.create(event_id=envelope.event_id, user_id=envelope.event.user_id)
    if envelope.event.user_id in Behaviour.poison:
        raise RuntimeError(f"poison event for user {envelope.event.user_id}")
    if Behaviour.failures_left > 0:
        Behaviour.failures_left -= 1
        raise RuntimeError("audit store unavailable")  # after the write: the rollback must undo it


module = Module(
    name="audit",
    description="Test-only consumer of users events",
    database=database,
    events=events,
    models=[AuditEntry],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=[Subscription(UserRegistered, record, name="audit.record")],
    requires=("users",),
)
