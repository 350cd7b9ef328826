"""Integration events the catalog publishes (search indexes and caches listen to them)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class ProductCreated(IntegrationEvent):
    name = "catalog.ProductCreated"
    version = 1

    product_id: int
    sku: str
    product_name: str
    price: int
    currency: str


@dataclass(frozen=True)
class ProductUpdated(IntegrationEvent):
    name = "catalog.ProductUpdated"
    version = 1

    product_id: int
    changed: list[str]


@dataclass(frozen=True)
class ProductDeleted(IntegrationEvent):
    name = "catalog.ProductDeleted"
    version = 1

    product_id: int


@dataclass(frozen=True)
class StockChanged(IntegrationEvent):
    name = "catalog.StockChanged"
    version = 1

    product_id: int
    available: int  # units that can be sold now, over all warehouses


@dataclass(frozen=True)
class BrandChanged(IntegrationEvent):
    """A brand was renamed or deleted: read models that copy the brand's name (search) refresh its products."""

    name = "catalog.BrandChanged"
    version = 1

    brand_id: int
    brand_name: str | None  # None: the brand was deleted and its products now have no brand


@dataclass(frozen=True)
class CategoryChanged(IntegrationEvent):
    """A category was renamed or deleted: read models that copy the category's name refresh its products."""

    name = "catalog.CategoryChanged"
    version = 1

    category_id: int
    category_name: str | None  # None: the category was deleted and its products now have none
