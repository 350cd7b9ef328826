"""The kernel's own tables in every module database, as frozen, versioned steps.

Why frozen copies rather than the live models: a migration must create the table as it was when the
step was written, whatever the models look like later.
"""

from __future__ import annotations

from peewee import CharField, Database, DateTimeField, IntegerField, Model, TextField

from ecommerce.kernel.database import create_tables


def _create_event_tables_v1(db: Database, module: str) -> None:
    class Outbox(Model):
        event_id = CharField(max_length=36, unique=True)
        name = CharField(max_length=200)
        version = IntegerField()
        payload = TextField()
        occurred_at = DateTimeField()
        available_at = DateTimeField()
        attempts = IntegerField(default=0)
        claimed_until = DateTimeField(null=True)
        delivered_at = DateTimeField(null=True)
        failed_at = DateTimeField(null=True)
        last_error = TextField(null=True)

        class Meta:
            table_name = f"{module}_outbox"

    class Inbox(Model):
        event_id = CharField(max_length=36)
        handler = CharField(max_length=200)
        processed_at = DateTimeField()

        class Meta:
            table_name = f"{module}_inbox"

    # Index names carry the module: in one shared SQLite file they share one namespace, and
    # "CREATE INDEX IF NOT EXISTS" would otherwise silently skip the second module's index.
    # The relay's poll: undelivered rows that are due, oldest first.
    Outbox.add_index(
        Outbox.delivered_at, Outbox.failed_at, Outbox.available_at, name=f"{module}_outbox_due"
    )
    # The uniqueness that makes a redelivered event a no-op for one handler.
    Inbox.add_index(Inbox.event_id, Inbox.handler, unique=True, name=f"{module}_inbox_once")
    create_tables(db, [Outbox, Inbox])


def create_event_tables_v1(db: Database, module: str) -> None:
    _create_event_tables_v1(db, module)
