"""The catalog: categories, brands, locations, warehouses, product, inventory, reservations.

A frozen copy of the models at this step. Every index below serves a named query:
- product (price, id), (name, id), (created_at, id): the three keyset sorts of GET /products — the
  cursor condition ``(col, id) > (v, last_id)`` is one index range scan, never an OFFSET;
- product brand_id, category_id (foreign keys): the brand and category filters;
- product identification (unique): SKU lookups by the CSV import, and the rule "one SKU, one product";
- inventory (product_id, warehouse_id) unique: availability of a product (detail page, in_stock filter,
  reservations) and "one stock row per product and warehouse"; warehouse_id: stock of a warehouse;
- reservations reference (unique): idempotent reserve/release/commit by the caller's reference;
- reservation_lines reservation_id: the lines of a reservation on release and commit.
"""

from peewee import (
    SQL,
    AutoField,
    CharField,
    Check,
    Database,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class Category(Model):
        """A node of the category tree (``parent`` is None at a root); ``slug`` names it in URLs and filters.
        One with sub-categories cannot be deleted (RESTRICT)."""

        name = CharField(max_length=100)
        slug = CharField(max_length=120, unique=True)
        parent = ForeignKeyField("self", null=True, on_delete="RESTRICT", column_name="parent_id")
        created_at = DateTimeField()

        class Meta:
            table_name = "categories"

    class Brand(Model):
        """A brand, ``name`` unique. Deleting one does not delete its products: their ``brand_id`` becomes NULL
        (the ``on_delete`` of the product's foreign key below)."""

        name = CharField(max_length=100, unique=True)
        created_at = DateTimeField()

        class Meta:
            table_name = "brands"

    class Location(Model):
        """Where a warehouse stands: its country and, when known, its coordinates (reservations prefer
        the buyer's country, then the nearest warehouse)."""

        city = CharField(max_length=100)
        country = CharField(max_length=2)
        latitude = FloatField(null=True)
        longitude = FloatField(null=True)

        class Meta:
            table_name = "locations"

    class Warehouse(Model):
        """A place that holds stock, ``name`` unique. Its stock rows go with it (CASCADE, below), so the module
        refuses to delete one while any of its units are reserved."""

        name = CharField(max_length=100, unique=True)
        location = ForeignKeyField(Location, on_delete="RESTRICT", column_name="location_id")
        created_at = DateTimeField()

        class Meta:
            table_name = "warehouses"

    class Product(Model):
        """A product for sale, its SKU in ``identification``; ``deleted_at`` is a soft delete. At this step
        ``price`` is an INTEGER: 0003 widens it to BIGINT."""

        id = AutoField()  # named by the index below
        name = CharField(max_length=200)
        description = TextField(default="")
        price = IntegerField(constraints=[Check("price >= 0")])
        currency = CharField(max_length=3)
        identification = CharField(max_length=64, unique=True)
        brand = ForeignKeyField(Brand, null=True, on_delete="SET NULL", column_name="brand_id")
        category = ForeignKeyField(Category, null=True, on_delete="SET NULL", column_name="category_id")
        created_at = DateTimeField()
        updated_at = DateTimeField()
        deleted_at = DateTimeField(null=True)

        class Meta:
            table_name = "product"

    class Inventory(Model):
        """Stock of one product in one warehouse: ``quantity`` on hand, ``reserved`` for unpaid orders;
        the CHECK below keeps ``quantity - reserved`` from going negative."""

        product = ForeignKeyField(Product, on_delete="CASCADE", column_name="product_id")
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE", column_name="warehouse_id")
        quantity = IntegerField(default=0)
        reserved = IntegerField(default=0)
        updated_at = DateTimeField()

        class Meta:
            table_name = "inventory"
            # The invariant of the module, enforced by the database as the last line of defence.
            constraints = [SQL("CHECK (reserved >= 0 AND quantity >= reserved)")]

    class Reservation(Model):
        """Stock promised under a caller's reference (an order), ``status`` held until released or
        committed; 0002 adds the deadline ``expires_at`` and the sweep's index."""

        reference = CharField(max_length=100, unique=True)
        status = CharField(max_length=16, default="held")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "reservations"

    class ReservationLine(Model):
        """Units a reservation took from one inventory row (``inventory_id``), given back or shipped
        row by row when the reservation is released or committed."""

        reservation = ForeignKeyField(Reservation, on_delete="CASCADE", column_name="reservation_id")
        product_id = IntegerField()
        warehouse_id = IntegerField()
        inventory_id = IntegerField()
        quantity = IntegerField(constraints=[Check("quantity > 0")])

        class Meta:
            table_name = "reservation_lines"

    Product.add_index(Product.price, Product.id, name="product_price_id")
    Product.add_index(Product.name, Product.id, name="product_name_id")
    Product.add_index(Product.created_at, Product.id, name="product_created_id")
    Inventory.add_index(Inventory.product, Inventory.warehouse, unique=True, name="inventory_product_warehouse")
    create_tables(db, [Category, Brand, Location, Warehouse, Product, Inventory, Reservation, ReservationLine])


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("reservation_lines", "reservations", "inventory", "product", "warehouses", "locations",
                  "brands", "categories"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
