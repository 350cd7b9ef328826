"""search_documents plus the full-text index, per database.

- SQLite: an FTS5 table ``search_fts`` (name, brand, category, description; product_id unindexed),
  written by the module next to each document; ranked with bm25, name weighted highest.
- PostgreSQL: a generated ``document tsvector`` column (name weight A, brand and category B,
  description C) with a GIN index; queried with ``websearch_to_tsquery``, which accepts any input.
- (price, product_id) and brand_id / category_id indexes serve the filters shared with /products.
"""

from peewee import CharField, Database, DateTimeField, IntegerField, Model, PostgresqlDatabase, TextField
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class SearchDocument(Model):
        product_id = IntegerField(primary_key=True)
        name = CharField(max_length=200)
        description = TextField(default="")
        sku = CharField(max_length=64)
        brand = CharField(max_length=100, null=True)
        category = CharField(max_length=100, null=True)
        brand_id = IntegerField(null=True, index=True)
        category_id = IntegerField(null=True, index=True)
        price = IntegerField(index=True)
        currency = CharField(max_length=3)
        available = IntegerField(default=0)
        updated_at = DateTimeField()

        class Meta:
            table_name = "search_documents"

    create_tables(db, [SearchDocument])
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS ("
            " setweight(to_tsvector('english', coalesce(name, '')), 'A') ||"
            " setweight(to_tsvector('english', coalesce(brand, '') || ' ' || coalesce(category, '')), 'B') ||"
            " setweight(to_tsvector('english', coalesce(description, '')), 'C')) STORED"
        )
        db.execute_sql("CREATE INDEX search_documents_document ON search_documents USING GIN (document)")
    else:
        db.execute_sql(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "name, brand, category, description, product_id UNINDEXED, tokenize='porter unicode61')"
        )


def down(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql("DROP TABLE IF EXISTS search_fts")
    db.execute_sql("DROP TABLE IF EXISTS search_documents")
