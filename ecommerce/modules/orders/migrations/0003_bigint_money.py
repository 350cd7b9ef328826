"""Order money becomes BIGINT: 99 units at the highest unit price already pass PostgreSQL's 32-bit
INTEGER (issue 14: such checkouts were a 500 there), and the largest total the validation allows
(``kernel.limits``) needs 47 bits. SQLite's INTEGER already holds 64 bits: nothing to do."""

from peewee import Database
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.migrations import retype_on_postgres

COLUMNS = {"orders": ("subtotal", "total"), "order_items": ("unit_price", "line_total")}


def up(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "INTEGER")
