"""Integration events the catalog publishes (search indexes and caches listen to them)."""

from __future__ import annotations

from ecommerce.kernel.events import IntegrationEvent, integration_event


@integration_event("catalog.ProductCreated")
class ProductCreated(IntegrationEvent):
    product_id: int
    sku: str
    product_name: str
    price: int
    currency: str


@integration_event("catalog.ProductUpdated")
class ProductUpdated(IntegrationEvent):
    product_id: int
    changed: list[str]


@integration_event("catalog.ProductDeleted")
class ProductDeleted(IntegrationEvent):
    product_id: int


@integration_event("catalog.StockChanged")
class StockChanged(IntegrationEvent):
    product_id: int
    available: int  # units that can be sold now, over all warehouses


@integration_event("catalog.BrandChanged")
class BrandChanged(IntegrationEvent):
    """A brand was renamed or deleted: read models that copy the brand's name (search) refresh its products."""

    brand_id: int
    brand_name: str | None  # None: the brand was deleted and its products now have no brand


@integration_event("catalog.CategoryChanged")
class CategoryChanged(IntegrationEvent):
    """A category was renamed or deleted: read models that copy the category's name refresh its products."""

    category_id: int
    category_name: str | None  # None: the category was deleted and its products now have none
