"""The search read model's price becomes BIGINT, like the catalog's (``catalog`` migration 0003): a
product priced past 2^31-1 minor units must be indexable on PostgreSQL (issue 14). SQLite's INTEGER
already holds 64 bits: nothing to do."""

from peewee import Database
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.migrations import retype_on_postgres

COLUMNS = {"search_documents": ("price",)}


def up(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "BIGINT")


def down(migrator: SchemaMigrator, db: Database) -> None:
    retype_on_postgres(db, COLUMNS, "INTEGER")
