"""Schemas of the search module."""

from __future__ import annotations

from pydantic import Field

from ecommerce.kernel.limits import QueryAmount, QueryId
from ecommerce.kernel.schema import ApiModel
from ecommerce.modules.catalog.api import ProductSummary


class SearchQuery(ApiModel):
    q: str = Field(max_length=1000, description="Words to find in name, description, brand and category")
    category: str | None = Field(default=None, max_length=120)
    brand: QueryId | None = None
    min_price: QueryAmount | None = None
    max_price: QueryAmount | None = None
    in_stock: bool = False
    limit: str | None = None
    cursor: str | None = None


class Hit(ProductSummary):
    highlighted_name: str | None
    snippet: str | None
    score: float


class HitPage(ApiModel):
    items: list[Hit]
    next_cursor: str | None
