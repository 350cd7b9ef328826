"""Prices become BIGINT: a unit price may be up to ``kernel.limits.MAX_UNIT_PRICE`` (10^10 minor units),
past PostgreSQL's 32-bit INTEGER (issue 14: such prices were a 500 there). SQLite's INTEGER already
holds 64 bits: nothing to do. The CHECK (price >= 0) and the (price, id) index follow the column."""

from peewee import Database
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.migrations import retype_on_postgres

COLUMNS = {"product": ("price",)}


def up(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "INTEGER")
