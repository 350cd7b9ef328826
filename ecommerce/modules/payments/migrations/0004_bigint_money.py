"""Payment money becomes BIGINT: a payment is an order's total, which may pass PostgreSQL's 32-bit
INTEGER (issue 14), and so may its refunds and the gateway simulator's ledger of both. SQLite's
INTEGER already holds 64 bits: nothing to do."""

from peewee import Database
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.migrations import retype_on_postgres

COLUMNS = {
    "payment": ("amount", "refunded_amount"),
    "refunds": ("amount",),
    "gateway_simulator_charges": ("amount", "refunded"),
    "gateway_simulator_refunds": ("amount",),
}


def up(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "INTEGER")
