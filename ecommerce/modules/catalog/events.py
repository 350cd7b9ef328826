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
