"""Order money becomes BIGINT: 99 units at the highest unit price already pass PostgreSQL's 32-bit
INTEGER (issue 14: such checkouts were a 500 there), and the largest total the validation allows
(``kernel.limits``) needs 47 bits. SQLite's INTEGER already holds 64 bits: nothing to do."""

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator

COLUMNS = {"orders": ("subtotal", "total"), "order_items": ("unit_price", "line_total")}


def _retype(db: Database, kind: str) -> None:
    if isinstance(db, PostgresqlDatabase):
        for table, columns in COLUMNS.items():
            changes = ", ".join(f'ALTER COLUMN "{column}" TYPE {kind}' for column in columns)
            db.execute_sql(f'ALTER TABLE "{table}" {changes}')


def up(migrator: SchemaMigrator, db: Database) -> None:
    _retype(db, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    _retype(db, "INTEGER")
