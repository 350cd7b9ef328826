"""The search module's own read model: one row per live product, kept current by catalog events.

The full-text part lives beside it: an FTS5 table on SQLite, a generated ``tsvector`` column with a GIN
index on PostgreSQL (see migrations/0001). Nothing here joins the catalog's tables.
"""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, Model, TextField

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.columns import MoneyField
from ecommerce.kernel.module import module_storage

MODULE = "search"
database, events = module_storage(MODULE)


class SearchDocument(Model):
    """One live product as search shows it, copied from the catalog's ``documents`` (brand and category by
    name, ``available`` units in stock) and upserted on every catalog event that changes it; a deleted product's
    row is dropped. ``product_id`` is also the full-text row's id (FTS5 rowid on SQLite)."""

    product_id = IntegerField(primary_key=True)
    name = CharField(max_length=200)
    description = TextField(default="")
    sku = CharField(max_length=64)
    brand = CharField(max_length=100, null=True)
    category = CharField(max_length=100, null=True)
    brand_id = IntegerField(null=True)
    category_id = IntegerField(null=True)
    price = MoneyField()  # BIGINT since migration 0003, like the catalog's
    currency = CharField(max_length=3)
    available = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_documents"


MODELS = [SearchDocument]
