"""The search read model's price becomes BIGINT, like the catalog's (``catalog`` migration 0003): a
product priced past 2^31-1 minor units must be indexable on PostgreSQL (issue 14). SQLite's INTEGER
already holds 64 bits: nothing to do."""

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator


def up(migrator: SchemaMigrator, db: Database) -> None:
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "search_documents" ALTER COLUMN "price" TYPE BIGINT')


def down(migrator: SchemaMigrator, db: Database) -> None:
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "search_documents" ALTER COLUMN "price" TYPE INTEGER')
