"""Build catalog fixtures through the module's own use cases (no hand-written SQL in tests)."""

from __future__ import annotations

import itertools
from typing import Any

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.modules.catalog import products, stock, taxonomy

_skus = itertools.count(1)


def product(kernel: Kernel, **fields: Any) -> dict[str, Any]:
    n = next(_skus)
    data = {"name": f"Test product {n}", "price": 1000 + n, "currency": "USD", "identification": f"T-{n:05d}"}
    data.update(fields)
    created: dict[str, Any] = kernel.runner.call(products.create, data)
    return created


def warehouse(kernel: Kernel, name: str | None = None, lat: float | None = None, lon: float | None = None) -> int:
    created = kernel.runner.call(
        stock.create_warehouse, name or f"WH {next(_skus)}",
        {"city": "Somewhere", "country": "DE", "latitude": lat, "longitude": lon},
    )
    return int(created["id"])


def stocked(kernel: Kernel, quantity: int, warehouse_id: int | None = None, **fields: Any) -> tuple[int, int]:
    """A product with ``quantity`` units in a (new) warehouse; returns (product id, warehouse id)."""
    item = product(kernel, **fields)
    wid = warehouse_id or warehouse(kernel)
    kernel.runner.call(stock.set_stock, wid, item["id"], quantity)
    return int(item["id"]), wid


def category(kernel: Kernel, name: str, parent: int | None = None) -> int:
    return int(kernel.runner.call(taxonomy.create_category, name, parent).id)


def brand(kernel: Kernel, name: str) -> int:
    return int(kernel.runner.call(taxonomy.create_brand, name).id)
