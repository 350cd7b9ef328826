"""``ecommerce catalog import FILE.csv``: bulk upsert of products (and optionally stock) by SKU.

Rows are validated and written one at a time, each in its own transaction (brand, category, product
and stock together), so a row is imported whole or not at all; rejected rows are reported by line. Brands and categories
are created by name when missing. Columns::

    identification,name,description,price,currency,brand,category[,warehouse,quantity]
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import AppError
from ecommerce.modules.catalog import caching, rules, stock
from ecommerce.modules.catalog.events import ProductCreated, ProductUpdated
from ecommerce.modules.catalog.models import Brand, Category, Product, Warehouse, database, events

REQUIRED = ("identification", "name", "price", "currency")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _parse(row: dict[str, str]) -> dict[str, Any]:
    try:
        price = int(row["price"])
    except ValueError:
        price = -1
    data: dict[str, Any] = {
        "identification": row["identification"], "name": row["name"], "description": row.get("description", ""),
        "price": price, "currency": row["currency"],
    }
    clean = rules.check_product(data)
    if row.get("warehouse"):
        try:
            clean["_quantity"] = rules.check_quantity(int(row.get("quantity") or "0"))
        except ValueError:
            clean["_quantity"] = rules.check_quantity(-1)
        clean["_warehouse"] = row["warehouse"]
    clean["_brand"], clean["_category"] = row.get("brand") or None, row.get("category") or None
    return clean


def _named(model: Any, name: str | None) -> int | None:
    """The id of the brand or category called ``name``, created if missing (inside the row's transaction)."""
    if not name:
        return None
    if model is Category:  # "Running Shoes" and "running shoes" are one category (one slug)
        slug = rules.slugify(name)
        Category.insert(name=name, slug=slug, created_at=utcnow()).on_conflict_ignore().execute()
        return int(Category.get(Category.slug == slug).id)
    model.insert(name=name, created_at=utcnow()).on_conflict_ignore().execute()
    return int(model.get(model.name == name).id)


def _write(clean: dict[str, Any]) -> bool:
    """One row in one transaction: brand, category, product and stock, or nothing. True if created."""
    now = utcnow()
    values = {k: v for k, v in clean.items() if not k.startswith("_")}
    with database.atomic():
        values["brand"] = _named(Brand, clean["_brand"])
        values["category"] = _named(Category, clean["_category"])
        existing = Product.get_or_none(Product.identification == values["identification"])
        if existing is None:
            product = Product.create(created_at=now, updated_at=now, **values)
            events.publish(ProductCreated(product_id=product.id, sku=product.identification,
                                          product_name=product.name, price=product.price, currency=product.currency))
        else:
            Product.update(updated_at=now, deleted_at=None, **values).where(Product.id == existing.id).execute()
            product = existing
            events.publish(ProductUpdated(product_id=product.id, changed=sorted(values)))
        if "_warehouse" in clean:
            warehouse = Warehouse.get_or_none(Warehouse.name == clean["_warehouse"])
            if warehouse is None:
                raise ValueError(f"no warehouse named {clean['_warehouse']!r}")
            if not stock.write_on_hand(product.id, warehouse.id, clean["_quantity"]):
                raise ValueError("quantity is below the units already reserved")
            stock.announce({product.id})
    caching.forget_products(product.id)
    return existing is None


def import_csv(path: Path, progress: Callable[[int], None] | None = None) -> ImportReport:
    report = ImportReport()
    for line, row in _rows(path):
        try:
            created = _write(_parse(row))
        except AppError as exc:
            reasons = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
            report.errors.append((line, reasons))
        except ValueError as exc:
            report.errors.append((line, str(exc)))
        else:
            if created:
                report.created += 1
            else:
                report.updated += 1
        if progress:
            progress(1)
    caching.forget_tree()
    return report


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
