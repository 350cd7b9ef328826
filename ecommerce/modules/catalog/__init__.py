"""Catalog and inventory: products, categories, brands, warehouses, stock per warehouse and
reservations that never oversell."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.catalog import reservations, settings
from ecommerce.modules.catalog.events import (
    BrandChanged,
    CategoryChanged,
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    StockChanged,
)
from ecommerce.modules.catalog.models import MODELS, database, events
from ecommerce.modules.catalog.reactions import SUBSCRIPTIONS
from ecommerce.modules.catalog.seed import seed

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
    subscriptions=SUBSCRIPTIONS,
    jobs=[
        # A reservation nobody confirmed by its deadline (its checkout died before writing the order).
        Job("expire-reservations", 30.0, reservations.expire_due),
    ],
    seed=seed,
    cli="ecommerce.modules.catalog.cli:add_commands",
    setup=settings.setup,
)
