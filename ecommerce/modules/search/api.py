"""The search module's public facade: ranked full-text search for pages and scripts.

Hits are plain dicts as ``GET /search`` returns them; ``highlighted_name`` and ``snippet`` are already
HTML-escaped with only ``<mark>`` added, so a page may show them as markup.
"""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.kernel.remote import remotable
from ecommerce.kernel.replicas import replica_reads
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.search.query import SearchFilters, search

__all__ = ["find"]


@remotable("search", idempotent=True)
@replica_reads
def find(q: str, page: PageRequest, *, category: str | None = None, brand: int | None = None,
         min_price: int | None = None, max_price: int | None = None, in_stock: bool = False) -> Page[dict[str, Any]]:
    """Products matching the words of ``q``, best first; 400 when ``q`` has no word in it."""
    filters = SearchFilters(q=q, category_ids=catalog.category_ids(category) if category else None,
                            brand_id=brand, min_price=min_price, max_price=max_price, in_stock=in_stock)
    return search(filters, page)
