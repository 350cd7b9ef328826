"""Catalog and inventory: products, categories, brands, warehouses, stock per warehouse and
reservations that never oversell."""

from __future__ import annotations

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.catalog import reservations
from ecommerce.modules.catalog.seed import seed

module = Module.of(
    __name__,
    description="Products, categories, brands, warehouses, stock and reservations",
    facade="ecommerce.modules.catalog.api",
    jobs=[
        # A reservation nobody confirmed by its deadline (its checkout died before writing the order).
        Job("expire-reservations", 30.0, reservations.expire_due),
    ],
    seed=seed,
)
