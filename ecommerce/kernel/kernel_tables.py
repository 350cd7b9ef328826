"""The kernel's own tables in every module database, as frozen, versioned steps.

Applied by ``ecommerce migrate`` before the module's own migrations and recorded in
``<module>_kernel_migrations``. Steps are append-only: never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import CharField, Database, DateTimeField, IntegerField, Model, TextField

from ecommerce.kernel.database import create_tables
from ecommerce.kernel.events.table_steps import create_event_tables_v1


def _create_idempotency_keys_v1(db: Database, module: str) -> None:
    class IdempotencyKey(Model):
        scope = CharField(max_length=100)  # the caller (a user id) the key belongs to
        key = CharField(max_length=255)
        request_hash = CharField(max_length=64)
        status = CharField(max_length=16)  # in_flight | done
        response_status = IntegerField(null=True)
        response_body = TextField(null=True)
        created_at = DateTimeField()
        expires_at = DateTimeField()

        class Meta:
            table_name = f"{module}_idempotency_keys"

    # One row per (caller, key): the insert that wins this index owns the request.
    IdempotencyKey.add_index(IdempotencyKey.scope, IdempotencyKey.key, unique=True, name=f"{module}_idem_key")
    IdempotencyKey.add_index(IdempotencyKey.expires_at, name=f"{module}_idem_expiry")
    create_tables(db, [IdempotencyKey])


KERNEL_STEPS: tuple[tuple[str, Callable[[Database, str], None]], ...] = (
    ("0001_event_tables", create_event_tables_v1),
    ("0002_idempotency_keys", _create_idempotency_keys_v1),
)
