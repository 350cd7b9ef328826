"""SQLite: the FTS5 row of a product gets the product id as its rowid.

The indexer now replaces and drops a product's row with ``WHERE rowid = ?`` (a lookup) instead of
``WHERE product_id = ?`` (a scan of the whole index, ``product_id`` being UNINDEXED). Rows written before
this step have arbitrary rowids, so they are re-keyed once; the index content does not change.
PostgreSQL keeps its generated ``tsvector`` column: nothing to do.
"""

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator

COLUMNS = "name, brand, category, description, product_id"


def up(migrator: SchemaMigrator, db: Database) -> None:
    if isinstance(db, PostgresqlDatabase):
        return
    rows = {row[-1]: row for row in db.execute_sql(f"SELECT {COLUMNS} FROM search_fts").fetchall()}
    db.execute_sql("DELETE FROM search_fts")
    for product_id, row in rows.items():
        db.execute_sql(f"INSERT INTO search_fts (rowid, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", (product_id, *row))


def down(migrator: SchemaMigrator, db: Database) -> None:
    """Nothing to undo: rowids equal to product ids are valid FTS5 rowids for the previous code too."""
