"""Catalog and inventory: products, categories, brands, warehouses, stock per warehouse and
reservations that never oversell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.kernel.module import Job, Module
from ecommerce.modules.catalog import caching, reservations
from ecommerce.modules.catalog.events import (
    BrandChanged,
    CategoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    StockChanged,
)
from ecommerce.modules.catalog.models import MODELS, database, events
from ecommerce.modules.catalog.seed import seed

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel


def _setup(kernel: Kernel) -> None:
    caching.configure(kernel.cache, kernel.settings.cache_ttl)


def _forget(envelope: Envelope[Any]) -> None:
    """Changes made elsewhere (another instance, the CSV import) reach this process's cache too."""
    caching.forget_products(envelope.event.product_id)


def _forget_all(envelope: Envelope[Any]) -> None:
    """A brand or category name shows on many product pages: every process drops its whole cache."""
    caching.forget_everything()



module = Module(
    name="catalog",
    description="Products, categories, brands, warehouses, stock and reservations",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.catalog.http:build_blueprint",
    facade="ecommerce.modules.catalog.api",
    publishes=[ProductCreated, ProductUpdated, ProductDeleted, StockChanged, BrandChanged, CategoryChanged],
    subscriptions=[
        Subscription(ProductUpdated, _forget, name="catalog.cache.product-updated"),
        Subscription(ProductDeleted, _forget, name="catalog.cache.product-deleted"),
        Subscription(StockChanged, _forget, name="catalog.cache.stock-changed"),
        Subscription(BrandChanged, _forget_all, name="catalog.cache.brand-changed"),
        Subscription(CategoryChanged, _forget_all, name="catalog.cache.category-changed"),
    ],
    jobs=[
        # A reservation nobody confirmed by its deadline (its checkout died before writing the order).
        Job("expire-reservations", 30.0, reservations.expire_due),
    ],
    seed=seed,
    cli="ecommerce.modules.catalog.cli:add_commands",
    setup=_setup,
)
