"""Warehouses and the stock each holds."""

from __future__ import annotations

from typing import Any

from peewee import JOIN, IntegrityError, fn

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import caching, rules
from ecommerce.modules.catalog.events import StockChanged
from ecommerce.modules.catalog.models import Inventory, Location, Product, Warehouse, database, events


def available_subquery(product: Any = Product.id) -> Any:
    """Units that can be sold now, over all warehouses, as a (correlated) subquery."""
    return Inventory.select(fn.COALESCE(fn.SUM(Inventory.quantity - Inventory.reserved), 0)).where(
        Inventory.product == product
    )


#: Compiled once: every reservation announces the stock it changed (ADR 0015).
_AVAILABLE = Statement(database, lambda product_id: available_subquery(product_id))


def available(product_id: int) -> int:
    return int(_AVAILABLE.rows(product_id)[0][0] or 0)


def announce(product_ids: set[int]) -> None:
    """Publish StockChanged for each product (inside the caller's transaction) and forget cached details."""
    for product_id in sorted(product_ids):
        events.publish(StockChanged(product_id=product_id, available=available(product_id)))


def warehouse_json(warehouse: Any) -> dict[str, Any]:
    return {
        "id": warehouse.id,
        "name": warehouse.name,
        "location": {
            "city": warehouse.location.city,
            "country": warehouse.location.country,
            "latitude": warehouse.location.latitude,
            "longitude": warehouse.location.longitude,
        },
    }


def list_warehouses() -> list[dict[str, Any]]:
    rows = Warehouse.select(Warehouse, Location).join(Location).order_by(Warehouse.id)
    return [warehouse_json(w) for w in rows]


def create_warehouse(name: Any, location: dict[str, Any]) -> dict[str, Any]:
    from ecommerce.modules.catalog.taxonomy import _name

    clean_name = _name(name)
    where = rules.check_location(location.get("city"), location.get("country"), location.get("latitude"),
                                 location.get("longitude"))
    try:
        with database.atomic():
            loc = Location.create(**where)
            warehouse = Warehouse.create(name=clean_name, location=loc.id)
    except IntegrityError:
        raise Conflict("A warehouse with this name already exists.") from None
    created = Warehouse.select(Warehouse, Location).join(Location).where(Warehouse.id == warehouse.id)
    return warehouse_json(created.get())


def update_warehouse(
    warehouse_id: int, name: Any = None, location: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Rename a warehouse or move it (its location); product pages showing it are refreshed."""
    from ecommerce.modules.catalog.taxonomy import _name

    warehouse = Warehouse.get_or_none(Warehouse.id == warehouse_id)
    if warehouse is None:
        raise NotFound("No such warehouse.")
    try:
        with database.atomic():
            if name is not None:
                Warehouse.update(name=_name(name)).where(Warehouse.id == warehouse_id).execute()
            if location is not None:
                where = rules.check_location(location.get("city"), location.get("country"),
                                             location.get("latitude"), location.get("longitude"))
                Location.update(**where).where(Location.id == warehouse.location_id).execute()
    except IntegrityError:
        raise Conflict("A warehouse with this name already exists.") from None
    caching.forget_everything()
    found = Warehouse.select(Warehouse, Location).join(Location).where(Warehouse.id == warehouse_id)
    return warehouse_json(found.get())


def delete_warehouse(warehouse_id: int) -> None:
    with database.atomic():
        held = Inventory.select().where((Inventory.warehouse == warehouse_id) & (Inventory.reserved > 0)).exists()
        if held:
            raise Conflict("The warehouse holds reserved stock; release or ship it first.")
        stocked = Inventory.select(Inventory.product).where(Inventory.warehouse == warehouse_id)
        products = {row.product_id for row in stocked}
        if Warehouse.delete().where(Warehouse.id == warehouse_id).execute() != 1:
            raise NotFound("No such warehouse.")
        announce(products)
    caching.forget_products(*products)


def write_on_hand(product_id: int, warehouse_id: int, quantity: int) -> bool:
    """Set a product's on-hand units in a warehouse, creating the row if needed; False (and nothing
    written) when ``quantity`` is below the units already reserved. One conditional update, never
    check-then-act; the caller holds the transaction and announces the change. The admin route and the
    CSV import both write stock through here."""
    now = utcnow()
    Inventory.insert(product=product_id, warehouse=warehouse_id, quantity=0, reserved=0,
                     updated_at=now).on_conflict_ignore().execute()
    changed: int = (
        Inventory.update(quantity=quantity, updated_at=now)
        .where((Inventory.product == product_id) & (Inventory.warehouse == warehouse_id)
               & (Inventory.reserved <= quantity))
        .execute()
    )
    return changed == 1


def set_stock(warehouse_id: int, product_id: int, quantity: Any) -> dict[str, int]:
    """Set the on-hand quantity; refused (409) below what is already reserved — never check-then-act:
    the conditional update decides."""
    qty = rules.check_quantity(quantity)
    if Warehouse.get_or_none(Warehouse.id == warehouse_id) is None:
        raise NotFound("No such warehouse.")
    if Product.get_or_none((Product.id == product_id) & Product.deleted_at.is_null()) is None:
        raise NotFound("No such product.")
    with database.atomic():
        if not write_on_hand(product_id, warehouse_id, qty):
            raise Conflict("Cannot set stock below the units already reserved for unpaid orders.")
        row = Inventory.get((Inventory.product == product_id) & (Inventory.warehouse == warehouse_id))
        announce({product_id})
    caching.forget_products(product_id)
    return {"warehouse_id": warehouse_id, "product_id": product_id, "quantity": row.quantity, "reserved": row.reserved}


def availability(product_id: int) -> dict[str, Any]:
    rows: Any = (
        Warehouse.select(Warehouse.id, Warehouse.name, Inventory.quantity, Inventory.reserved)
        .join(Inventory, JOIN.INNER, on=(Inventory.warehouse == Warehouse.id))
        .where(Inventory.product == product_id)
        .order_by(Warehouse.id)
        .tuples()
    )
    warehouses = [{"warehouse_id": wid, "name": name, "quantity": q - r} for wid, name, q, r in rows]
    return {"total": sum(w["quantity"] for w in warehouses), "warehouses": warehouses}
