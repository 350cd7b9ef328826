"""The search index replaces a product's entry in place (no duplicates), on every layout; on SQLite the
FTS5 row is keyed by the product id, and the 0002 migration re-keys rows written before it."""

from __future__ import annotations

import importlib

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.pagination import PageRequest
from ecommerce.modules.catalog import products
from ecommerce.modules.search import indexer
from ecommerce.modules.search.models import database
from ecommerce.modules.search.query import SearchFilters, search
from tests.support.catalog import product


def _found(kernel: Kernel, word: str) -> list[int]:
    page = kernel.call(search, SearchFilters(q=word), PageRequest.parse(None, None))
    return [hit["id"] for hit in page.items]  # type: ignore[attr-defined]


def test_refreshing_a_product_replaces_its_entry(kernel: Kernel) -> None:
    first = product(kernel, name="Zephyr Kettle", description="quiet")["id"]
    other = product(kernel, name="Zephyr Teapot", description="loud")["id"]
    for _ in range(3):
        kernel.call(indexer.refresh, [first, other])
    kernel.call(products.update, first, {"name": "Mistral Kettle"})
    kernel.call(indexer.refresh, [first])
    assert _found(kernel, "zephyr") == [other]
    assert _found(kernel, "mistral") == [first]
    if not is_postgres(database):
        rows = kernel.call(lambda: database.execute_sql("SELECT rowid, product_id FROM search_fts").fetchall())
        assert sorted(rows) == [(first, first), (other, other)]


def test_the_migration_rekeys_rows_written_with_other_rowids(kernel: Kernel) -> None:
    if is_postgres(database):  # PostgreSQL's index is a generated column: the step must leave it alone
        migration = importlib.import_module("ecommerce.modules.search.migrations.0002_fts_rowid_is_product_id")
        kernel.call(migration.up, None, kernel.databases.get("search"))
        assert kernel.call(lambda: database.execute_sql("SELECT count(*) FROM search_documents").fetchone()[0]) == 0
        return
    legacy = [(7, "Old Lamp", 41), (8, "Old Chair", 42)]  # (rowid, name, product id), as the old code wrote
    def write() -> None:
        for rowid, name, product_id in legacy:
            database.execute_sql("INSERT INTO search_fts (rowid, name, brand, category, description, product_id) "
                                 "VALUES (?, ?, '', '', '', ?)", (rowid, name, product_id))

    kernel.call(write)
    migration = importlib.import_module("ecommerce.modules.search.migrations.0002_fts_rowid_is_product_id")
    kernel.call(migration.up, None, kernel.databases.get("search"))
    rows = kernel.call(lambda: database.execute_sql("SELECT rowid, product_id, name FROM search_fts").fetchall())
    assert sorted(rows) == [(41, 41, "Old Lamp"), (42, 42, "Old Chair")]
