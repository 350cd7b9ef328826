"""Payment money becomes BIGINT: a payment is an order's total, which may pass PostgreSQL's 32-bit
INTEGER (issue 14), and so may its refunds and the gateway simulator's ledger of both. SQLite's
INTEGER already holds 64 bits: nothing to do."""

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator

COLUMNS = {
    "payment": ("amount", "refunded_amount"),
    "refunds": ("amount",),
    "gateway_simulator_charges": ("amount", "refunded"),
    "gateway_simulator_refunds": ("amount",),
}


def _retype(db: Database, kind: str) -> None:
    if isinstance(db, PostgresqlDatabase):
        for table, columns in COLUMNS.items():
            changes = ", ".join(f'ALTER COLUMN "{column}" TYPE {kind}' for column in columns)
            db.execute_sql(f'ALTER TABLE "{table}" {changes}')


def up(migrator: SchemaMigrator, db: Database) -> None:
    _retype(db, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    _retype(db, "INTEGER")
