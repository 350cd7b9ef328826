"""Products: admin writes, the cached detail read, and the filtered, keyset-paginated listing.

The listing is one query per page whatever its size (brand and category joined, availability as a
correlated sum over ``inventory``): no N+1. Pagination is keyset on ``(sort column, id)``, served by
the composite indexes of migration 0001, so page 1 and page 10 000 cost the same.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, IntegrityError, Tuple, fn

from ecommerce.kernel.clock import isoformat, utcnow
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.kernel.limits import is_amount, is_id
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import caching, rules, stock
from ecommerce.modules.catalog.events import ProductCreated, ProductDeleted, ProductUpdated
from ecommerce.modules.catalog.models import Brand, Category, Inventory, Product, Warehouse, database, events

SORTS = {"price": (Product.price, "asc"), "-price": (Product.price, "desc"), "name": (Product.name, "asc"),
         "-created_at": (Product.created_at, "desc")}
DEFAULT_SORT = "-created_at"
FIELDS = ("name", "description", "price", "currency", "identification", "brand_id", "category_id")


@dataclass(frozen=True)
class ProductFilters:
    category_ids: list[int] | None = None
    brand_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    q: str | None = None
    sort: str = DEFAULT_SORT


def _check_refs(data: dict[str, Any]) -> None:
    errors = []
    if data.get("brand_id") is not None and Brand.get_or_none(Brand.id == data["brand_id"]) is None:
        errors.append(FieldError("brand_id", "No such brand."))
    if data.get("category_id") is not None and Category.get_or_none(Category.id == data["category_id"]) is None:
        errors.append(FieldError("category_id", "No such category."))
    if errors:
        raise ValidationFailed("The product refers to something that does not exist.", errors=errors)


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k in FIELDS}
    if "brand_id" in out:
        out["brand"] = out.pop("brand_id")
    if "category_id" in out:
        out["category"] = out.pop("category_id")
    return out


def create(data: dict[str, Any]) -> dict[str, Any]:
    clean = rules.check_product({k: v for k, v in data.items() if k in FIELDS})
    clean.setdefault("description", "")
    _check_refs(clean)
    now = utcnow()
    try:
        with database.atomic():
            product = Product.create(created_at=now, updated_at=now, **_columns(clean))
            events.publish(ProductCreated(product_id=product.id, sku=product.identification,
                                          product_name=product.name, price=product.price, currency=product.currency))
    except IntegrityError:
        raise Conflict("A product with this SKU (identification) already exists.") from None
    return detail(product.id)


def update(product_id: int, data: dict[str, Any]) -> dict[str, Any]:
    clean = rules.check_product({k: v for k, v in data.items() if k in FIELDS}, partial=True)
    _check_refs(clean)
    if not clean:
        return detail(product_id)
    try:
        with database.atomic():
            changed = (
                Product.update(updated_at=utcnow(), **_columns(clean))
                .where((Product.id == product_id) & Product.deleted_at.is_null())
                .execute()
            )
            if changed != 1:
                raise NotFound("No such product.")
            events.publish(ProductUpdated(product_id=product_id, changed=sorted(clean)))
    except IntegrityError:
        raise Conflict("A product with this SKU (identification) already exists.") from None
    caching.forget_products(product_id)
    return detail(product_id)


def delete(product_id: int) -> None:
    """Soft delete: the product disappears from the shop; orders that mention its id still make sense."""
    with database.atomic():
        if Inventory.select().where((Inventory.product == product_id) & (Inventory.reserved > 0)).exists():
            raise Conflict("Units of this product are reserved for unpaid orders.")
        changed = (
            Product.update(deleted_at=utcnow(), updated_at=utcnow())
            .where((Product.id == product_id) & Product.deleted_at.is_null())
            .execute()
        )
        if changed != 1:
            raise NotFound("No such product.")
        events.publish(ProductDeleted(product_id=product_id))
    caching.forget_products(product_id)


#: The product, its brand and category names and its stock per warehouse: one statement compiled once,
#: tuples back: an uncached product page went from 0.9k to 1.8-2.0k req/s (benchmarks/http, PostgreSQL, 1 worker).
_DETAIL = Statement(database, lambda product_id: (
    Product.select(Product.id, Product.name, Product.description, Product.price, Product.currency,
                   Product.identification, Product.brand, Brand.name, Product.category, Category.name,
                   Product.created_at, Warehouse.id, Warehouse.name, Inventory.quantity - Inventory.reserved)
    .join(Brand, JOIN.LEFT_OUTER).switch(Product).join(Category, JOIN.LEFT_OUTER)
    .switch(Product).join(Inventory, JOIN.LEFT_OUTER, on=(Inventory.product == Product.id))
    .join(Warehouse, JOIN.LEFT_OUTER, on=(Warehouse.id == Inventory.warehouse))
    .where((Product.id == product_id) & Product.deleted_at.is_null())
    .order_by(Warehouse.id)
))


def _load_detail(product_id: int) -> dict[str, Any] | None:
    rows = _DETAIL.rows(product_id)
    if not rows:
        return None
    pid, name, description, price, currency, sku, brand_id, brand, category_id, category, created = rows[0][:11]
    warehouses = [{"warehouse_id": row[11], "name": row[12], "quantity": row[13]} for row in rows
                  if row[11] is not None]
    return {
        "id": pid, "name": name, "description": description, "price": price, "currency": currency,
        "identification": sku, "brand_id": brand_id, "brand": brand, "category_id": category_id,
        "category": category, "created_at": isoformat(Product.created_at.python_value(created)),
        "availability": {"total": sum(w["quantity"] for w in warehouses), "warehouses": warehouses},
    }


def detail(product_id: int) -> dict[str, Any]:
    key = caching.product_key(product_id)
    found: dict[str, Any] | None = caching.get_or_load(key, lambda: _load_detail(product_id))
    if found is None:
        raise NotFound("No such product.")
    return found


def _cursor_position(sort: str, cursor: dict[str, Any]) -> tuple[Any, int]:
    """The ``(sort value, id)`` a keyset page continues after; a cursor from another sort or a forged
    one is a 400."""
    if cursor.get("s") != sort or "id" not in cursor or "v" not in cursor:
        raise ValidationFailed("The cursor belongs to another sort order.", errors=[FieldError("cursor", "Stale")])
    column: Any = SORTS[sort][0]
    value = cursor["v"]
    bad = ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")])
    try:
        if column is Product.created_at:
            value = datetime.datetime.fromisoformat(value)
        elif not (is_amount(value) if column is Product.price else isinstance(value, str)):  # price: one it can hold
            raise bad
        if not is_id(cursor["id"]):
            raise bad
    except (TypeError, ValueError):
        raise bad from None
    return value, cursor["id"]


#: Where each sort's value sits in a listing row.
_SORT_COLUMN = {"price": 3, "-price": 3, "name": 1, "-created_at": 10}


#: Listing columns, in the order ``_listing_item`` reads them.
def _listing_columns() -> list[Any]:
    return [Product.id, Product.name, Product.description, Product.price, Product.currency,
            Product.identification, Product.brand, Brand.name, Product.category, Category.name,
            Product.created_at, stock.available_subquery()]


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL of a listing (not the values): one compiled statement per shape."""

    sort: str
    categories: int  # how many category ids (0: no category filter)
    brand: bool
    min_price: bool
    max_price: bool
    in_stock: bool
    after: bool  # a keyset cursor


def _build_listing(shape: _Shape, *args: Any) -> Any:
    """The listing query for ``shape``; ``args`` in the order ``_listing_args`` produces them."""
    values = list(args)
    query = (
        Product.select(*_listing_columns())
        .join(Brand, JOIN.LEFT_OUTER).switch(Product).join(Category, JOIN.LEFT_OUTER)
        .where(Product.deleted_at.is_null())
    )
    if shape.categories:
        query = query.where(Product.category.in_([values.pop(0) for _ in range(shape.categories)]))
    if shape.brand:
        query = query.where(Product.brand == values.pop(0))
    if shape.min_price:
        query = query.where(Product.price >= values.pop(0))
    if shape.max_price:
        query = query.where(Product.price <= values.pop(0))
    if shape.in_stock:
        in_stock = Inventory.select(Inventory.id).where(
            (Inventory.product == Product.id) & (Inventory.quantity > Inventory.reserved)
        )
        query = query.where(fn.EXISTS(in_stock))
    column: Any
    column, direction = SORTS[shape.sort]
    if shape.after:
        key = Tuple(values.pop(0), values.pop(0))
        query = query.where(Tuple(column, Product.id) > key if direction == "asc" else Tuple(column, Product.id) < key)
    order = [column.asc(), Product.id.asc()] if direction == "asc" else [column.desc(), Product.id.desc()]
    return query.order_by(*order).limit(values.pop(0))


_LISTINGS: dict[_Shape, Statement] = {}


def _listing(shape: _Shape) -> Statement:
    # Compiled once per shape: building and compiling the peewee query was 26 % of the CPU of
    # GET /products (py-spy); first page 612 -> 1,138 req/s (benchmarks/http, PostgreSQL, 1 worker).
    found = _LISTINGS.get(shape)
    if found is None:
        kinds: list[type] = [int] * (shape.categories + shape.brand + shape.min_price + shape.max_price)
        kinds += [str, int] if shape.after else []
        found = _LISTINGS[shape] = Statement(database, lambda *args: _build_listing(shape, *args), *kinds, int)
    return found


def _listing_item(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0], "name": row[1], "description": row[2], "price": row[3], "currency": row[4],
        "identification": row[5], "brand_id": row[6], "brand": row[7], "category_id": row[8], "category": row[9],
        "created_at": isoformat(Product.created_at.python_value(row[10])),
        "availability": {"total": int(row[11] or 0)},
    }


def _shape(filters: ProductFilters, page: PageRequest) -> _Shape:
    return _Shape(filters.sort, len(filters.category_ids) if filters.category_ids is not None else 0,
                  filters.brand_id is not None, filters.min_price is not None, filters.max_price is not None,
                  filters.in_stock, bool(page.cursor))


def _listing_args(filters: ProductFilters, page: PageRequest) -> list[Any]:
    args: list[Any] = list(filters.category_ids or [])
    args += [v for v in (filters.brand_id, filters.min_price, filters.max_price) if v is not None]
    if page.cursor:
        value, after = _cursor_position(filters.sort, page.cursor)
        if isinstance(value, datetime.datetime) and not is_postgres(database):
            value = Product.created_at.db_value(value)  # SQLite compares the stored text
        args += [value, after]
    return [*args, page.limit + 1]


def list_page(filters: ProductFilters, page: PageRequest) -> Page[dict[str, Any]]:
    shape, args = _shape(filters, page), _listing_args(filters, page)
    rows: list[tuple[Any, ...]]
    if filters.q:  # the text filter's LIKE pattern is built per request: this shape is not compiled ahead
        text = Product.name.contains(filters.q) | (Product.identification == filters.q)
        rows = list(_build_listing(shape, *args).where(text).tuples())
    else:
        rows = _listing(shape).rows(*args)
    at = _SORT_COLUMN[filters.sort]
    sort_values = {row[0]: row[at] for row in rows}

    def position(item: dict[str, Any]) -> dict[str, Any]:
        value = Product.created_at.python_value(sort_values[item["id"]]) if at == 10 else sort_values[item["id"]]
        return {"s": filters.sort, "v": value.isoformat() if isinstance(value, datetime.datetime) else value,
                "id": item["id"]}

    return Page.from_rows([_listing_item(row) for row in rows], page.limit, position)
def _documents_query() -> Any:
    available = stock.available_subquery()
    return (
        Product.select(Product.id.alias("product_id"), Product.name, Product.description,
                       Product.identification.alias("sku"), Product.brand.alias("brand_id"), Brand.name.alias("brand"),
                       Product.category.alias("category_id"), Category.name.alias("category"), Product.price,
                       Product.currency, available.alias("available"))
        .join(Brand, JOIN.LEFT_OUTER).switch(Product).join(Category, JOIN.LEFT_OUTER)
        .where(Product.deleted_at.is_null())
    )


_DOCUMENT_COLUMNS = ("product_id", "name", "description", "sku", "brand_id", "brand", "category_id", "category",
                     "price", "currency", "available")
_DOCUMENTS: dict[int, Statement] = {}
#: Up to this many ids (an order's lines), one compiled statement per count; more are built each time.
_COMPILED_UP_TO = 20


def _documents_statement(count: int) -> Statement:
    # The read every search and recommendations handler makes per event, compiled once per number of ids
    # (building it was the relay's largest share of the app's CPU in a checkout: benchmarks/http, GIL profile).
    found = _DOCUMENTS.get(count)
    if found is None:
        found = _DOCUMENTS[count] = Statement(
            database, lambda *ids: _documents_query().where(Product.id.in_(list(ids))), *([int] * count))
    return found


def documents(product_ids: list[int] | None, after: int, limit: int) -> list[dict[str, Any]]:
    wanted = sorted(set(product_ids)) if product_ids is not None else []
    if product_ids is not None and len(wanted) <= _COMPILED_UP_TO:
        rows: list[Any] = [dict(zip(_DOCUMENT_COLUMNS, row, strict=True))
                           for row in (_documents_statement(len(wanted)).rows(*wanted) if wanted else [])]
    elif product_ids is not None:  # a brand's or a category's products: rare, and of any number
        rows = list(_documents_query().where(Product.id.in_(wanted)).dicts())
    else:
        rows = list(_documents_query().where(Product.id > after).order_by(Product.id).limit(limit).dicts())
    for row in rows:
        row["available"] = int(row["available"] or 0)
    return rows


def _snapshot_statement(count: int) -> Statement:
    # One compiled statement per number of ids (a cart has a handful of lines); with the cart's compiled
    # lines, GET /cart went from 0.4k to 1.1-1.3k req/s (benchmarks/http, PostgreSQL, 1 worker).
    found = _SNAPSHOTS.get(count)
    if found is None:
        found = _SNAPSHOTS[count] = Statement(database, lambda *ids: (
            Product.select(Product.id, Product.name, Product.price, Product.currency, Product.identification,
                           stock.available_subquery())
            .where(Product.id.in_(list(ids)) & Product.deleted_at.is_null())
        ), *([int] * count))
    return found


_SNAPSHOTS: dict[int, Statement] = {}
_SNAPSHOT_COLUMNS = ("id", "name", "price", "currency", "identification", "available")


def snapshot(product_ids: list[int]) -> list[dict[str, Any]]:
    """Name and price of many products in one query (for carts and orders); deleted ones are absent."""
    if not product_ids:
        return []
    ids = sorted(set(product_ids))
    return [dict(zip(_SNAPSHOT_COLUMNS, row, strict=True)) for row in _snapshot_statement(len(ids)).rows(*ids)]
