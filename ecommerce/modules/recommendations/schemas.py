"""Schemas of the recommendations module."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ecommerce.kernel.schema import ApiModel
from ecommerce.modules.catalog.api import ProductSummary

Reason = Literal["bought_together", "popular_in_category", "popular", "catalog"]


class RecommendationQuery(ApiModel):
    limit: int = Field(default=10, ge=1, le=50, description="How many products (1..50)")


class RecommendedProduct(ProductSummary):
    reason: Reason = Field(description="bought_together, popular_in_category, popular, or catalog (cold start)")
    score: int = Field(description="Paid orders behind the reason (0 for catalog)")


class RecommendationList(ApiModel):
    items: list[RecommendedProduct]
