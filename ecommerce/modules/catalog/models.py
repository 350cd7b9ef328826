"""The catalog module's tables (private: other modules use ``catalog.api``).

Money is integer minor units plus an ISO 4217 currency. Stock lives per warehouse in ``inventory``
(``quantity`` on hand, ``reserved`` promised to unpaid orders); ``quantity - reserved`` is what can be sold
and the database itself refuses to let it go negative (CHECK constraints in the migration).
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    CharField,
    Check,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.columns import MoneyField
from ecommerce.kernel.module import module_storage

MODULE = "catalog"
database, events = module_storage(MODULE)


class Category(Model):
    """A node of the category tree (``parent`` is None at a root); ``slug`` (unique) names it in URLs and
    filters. One with sub-categories cannot be deleted (RESTRICT); deleting one leaves its products uncategorised."""

    id = AutoField()
    name = CharField(max_length=100)
    slug = CharField(max_length=120, unique=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT", column_name="parent_id")
    created_at = DateTimeField(default=utcnow)
    parent_id: int | None

    class Meta:
        table_name = "categories"


class Brand(Model):
    """A brand, ``name`` unique. Deleting one leaves its products without a brand (``brand_id`` SET NULL) and
    publishes ``BrandChanged``, so the read models that copy brand names (search) drop it."""

    id = AutoField()
    name = CharField(max_length=100, unique=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "brands"


class Location(Model):
    """Where a warehouse stands: its country and, when known, its coordinates. Reservations take stock from
    the buyer's country first, then from the nearest warehouse when both sides have coordinates."""

    id = AutoField()
    city = CharField(max_length=100)
    country = CharField(max_length=2)
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)

    class Meta:
        table_name = "locations"


class Warehouse(Model):
    """A place that holds stock (``name`` unique). It cannot be deleted while any of its units are reserved,
    and its location cannot be deleted while the warehouse stands (RESTRICT)."""

    id = AutoField()
    name = CharField(max_length=100, unique=True)
    location = ForeignKeyField(Location, on_delete="RESTRICT", column_name="location_id")
    created_at = DateTimeField(default=utcnow)
    location_id: int

    class Meta:
        table_name = "warehouses"


class Product(Model):
    """A product for sale: ``identification`` is its SKU (unique; the CSV import matches on it) and ``price`` is
    in minor units of ``currency``. Deleting only sets ``deleted_at``, so orders and carts keep real ids."""

    id = AutoField()
    name = CharField(max_length=200)
    description = TextField(default="")
    # BIGINT since migration 0003 (was 32-bit: kernel.columns says why).
    price = MoneyField(constraints=[Check("price >= 0")])
    currency = CharField(max_length=3)
    identification = CharField(max_length=64, unique=True)  # the SKU
    brand = ForeignKeyField(Brand, null=True, on_delete="SET NULL", column_name="brand_id")
    category = ForeignKeyField(Category, null=True, on_delete="SET NULL", column_name="category_id")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    deleted_at = DateTimeField(null=True)  # soft delete: orders and carts keep pointing at real ids
    brand_id: int | None
    category_id: int | None

    class Meta:
        table_name = "product"


class Inventory(Model):
    """Stock of one product in one warehouse (one row per pair, a unique index): ``quantity`` on hand and
    ``reserved`` for unpaid orders. Units are reserved and stock is set by conditional UPDATEs (never check
    then act), and a CHECK (migration 0001) keeps ``quantity - reserved``, what can be sold, from going negative."""

    id = AutoField()
    product = ForeignKeyField(Product, on_delete="CASCADE", column_name="product_id")
    warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE", column_name="warehouse_id")
    quantity = IntegerField(default=0)
    reserved = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)
    product_id: int
    warehouse_id: int

    class Meta:
        table_name = "inventory"
        constraints = [SQL("CHECK (reserved >= 0 AND quantity >= reserved)")]


class Reservation(Model):
    """Stock promised under a caller's reference (an order): held until ``expires_at``, then released,
    committed (and perhaps returned) or, when nobody confirmed it in time, expired by the sweep."""

    id = AutoField()
    reference = CharField(max_length=100, unique=True)
    status = CharField(max_length=16, default="held")  # held | released | committed | returned | expired
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)  # the sweep expires a reservation still held after this (0002)

    class Meta:
        table_name = "reservations"


class ReservationLine(Model):
    """Units a reservation took from one inventory row (``inventory_id``). Release, expiry and commit give back
    or ship exactly these units, row by row in inventory id order (the lock order of ``reserve``)."""

    id = AutoField()
    reservation = ForeignKeyField(Reservation, backref="lines", on_delete="CASCADE", column_name="reservation_id")
    product_id = IntegerField()
    warehouse_id = IntegerField()
    inventory_id = IntegerField()
    quantity = IntegerField(constraints=[Check("quantity > 0")])
    reservation_id: int

    class Meta:
        table_name = "reservation_lines"


MODELS = [Category, Brand, Location, Warehouse, Product, Inventory, Reservation, ReservationLine]
