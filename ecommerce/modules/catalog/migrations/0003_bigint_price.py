"""Prices become BIGINT: a unit price may be up to ``kernel.limits.MAX_UNIT_PRICE`` (10^10 minor units),
past PostgreSQL's 32-bit INTEGER (issue 14: such prices were a 500 there). SQLite's INTEGER already
holds 64 bits: nothing to do. The CHECK (price >= 0) and the (price, id) index follow the column."""

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator


def up(migrator: SchemaMigrator, db: Database) -> None:
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "product" ALTER COLUMN "price" TYPE BIGINT')


def down(migrator: SchemaMigrator, db: Database) -> None:
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "product" ALTER COLUMN "price" TYPE INTEGER')
