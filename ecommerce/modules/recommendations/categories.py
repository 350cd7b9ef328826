"""Which category each sold product is in: reference data asked of the catalog's facade.

Written outside any transaction of ours after the catalog call (the subscriptions that use this are
``atomic=False``), as a plain upsert of what the catalog says now — running it twice is harmless.
A product the catalog no longer has keeps its last known category; the live check at read time
(``ranking``) drops it from every answer anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import EXCLUDED

from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.recommendations.models import ProductCategory, Sales, database

BATCH = 500


def refresh(product_ids: Iterable[int]) -> int:
    """Store the catalog's current category of these products; returns how many it knew."""
    wanted = sorted(set(product_ids))
    written = 0
    for start in range(0, len(wanted), BATCH):
        docs = catalog.documents(wanted[start:start + BATCH])
        if not docs:
            continue
        with database.transaction():  # joins the relay's inbox transaction (no savepoint); alone, its own
            ProductCategory.insert_many(
                [{"product_id": d.product_id, "category_id": d.category_id} for d in docs]
            ).on_conflict(
                conflict_target=[ProductCategory.product_id],
                update={ProductCategory.category_id: EXCLUDED.category_id},
            ).execute()
        written += len(docs)
    return written


def refresh_known(product_id: int) -> None:
    """A product changed in the catalog: refresh its category if it is one we track."""
    if ProductCategory.select().where(ProductCategory.product_id == product_id).exists():
        refresh([product_id])


def refresh_all_sold() -> int:
    """Every product with sales (after a rebuild)."""
    return refresh(row.product_id for row in Sales.select(Sales.product_id))
