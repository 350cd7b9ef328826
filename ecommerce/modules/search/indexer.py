"""Keeping the index current: upsert or drop documents as the catalog changes, and full rebuilds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from peewee import EXCLUDED

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.search.models import SearchDocument, database

_COLUMNS = ("product_id", "name", "description", "sku", "brand", "category", "brand_id", "category_id", "price",
            "currency", "available", "updated_at")
_KINDS = (int, str, str, str, str, str, int, int, int, str, int, str)  # updated_at: a datetime, declared str
# Every stock change (each checkout) rewrites a document: the upsert is compiled once, not built by peewee
# per event (peewee's SQL compiler was the largest part of the relay's CPU in a checkout; ADR 0015).
_upsert = Statement(database, lambda *values: SearchDocument.insert(
    dict(zip(_COLUMNS, values, strict=True))
).on_conflict(
    conflict_target=[SearchDocument.product_id],
    update={SearchDocument._meta.fields[c]: EXCLUDED[c] for c in _COLUMNS if c != "product_id"},
).as_rowcount(), *_KINDS)


def _write(doc: catalog.ProductDocument) -> None:
    _upsert.execute(doc.product_id, doc.name, doc.description, doc.sku, doc.brand, doc.category, doc.brand_id,
                    doc.category_id, doc.price, doc.currency, doc.available, utcnow())
    if not is_postgres(database):  # PostgreSQL's tsvector column is generated; FTS5 is ours to keep
        # The FTS row's rowid is the product id: replacing it is a rowid lookup. (``product_id`` is an
        # UNINDEXED column, so ``WHERE product_id = ?`` scanned the whole index: a full reindex of 100k
        # products was quadratic.)
        database.execute_sql("DELETE FROM search_fts WHERE rowid = ?", (doc.product_id,))
        database.execute_sql(
            "INSERT INTO search_fts (rowid, name, brand, category, description, product_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (doc.product_id, doc.name, doc.brand or "", doc.category or "", doc.description, doc.product_id),
        )


def _drop(product_id: int) -> None:
    SearchDocument.delete().where(SearchDocument.product_id == product_id).execute()
    if not is_postgres(database):
        database.execute_sql("DELETE FROM search_fts WHERE rowid = ?", (product_id,))


def refresh(product_ids: Iterable[int]) -> None:
    """Bring these products' documents in line with the catalog (deleted ones disappear). Idempotent."""
    wanted = sorted(set(product_ids))
    found = {doc.product_id: doc for doc in catalog.documents(wanted)}
    with database.transaction():  # joins the relay's inbox transaction (no savepoint); alone, its own
        for product_id in wanted:
            if product_id in found:
                _write(found[product_id])
            else:
                _drop(product_id)


def products_with(*, brand_id: int | None = None, category_id: int | None = None) -> list[int]:
    """The indexed products that copied this brand's or category's name (from our own table)."""
    query = SearchDocument.select(SearchDocument.product_id)
    if brand_id is not None:
        query = query.where(SearchDocument.brand_id == brand_id)
    if category_id is not None:
        query = query.where(SearchDocument.category_id == category_id)
    return [row.product_id for row in query]


def reindex(progress: Callable[[int], None] | None = None, batch: int = 500) -> int:
    """Rebuild the whole index from the catalog, page by page."""
    with database.atomic():
        SearchDocument.delete().execute()
        if not is_postgres(database):
            database.execute_sql("DELETE FROM search_fts")
    count, after = 0, 0
    while True:
        page = catalog.documents(None, after=after, limit=batch)
        if not page:
            return count
        with database.atomic():
            for doc in page:
                _write(doc)
        count += len(page)
        after = page[-1].product_id
        if progress:
            progress(len(page))
