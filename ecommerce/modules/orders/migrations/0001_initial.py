"""cart, cart_items, orders, order_items (a frozen copy of the models at this step).

Indexes and the queries they serve:
- cart user_id (unique): "my cart" on every cart request, and one cart per user under concurrency;
- cart_items (cart_id, product_id) unique: the item lines of a cart, and "adding the same product twice
  adds to one line";
- orders (user_id, id): "my orders", newest first, keyset-paginated by id;
- orders (order_status, expires_at): the expiry job's "unpaid orders past their deadline";
- orders (order_status, created_at, id): the admin list filtered by status and date;
- orders reservation (unique): one order per catalog reservation;
- order_items order_id (foreign key): the lines of an order.
"""

from peewee import AutoField, CharField, Check, Database, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class Cart(Model):
        """A customer's cart, one per user (``user_id`` unique); its lines wait in ``cart_items`` until
        checkout, unpriced: prices are always the catalog's."""

        user_id = IntegerField(unique=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "cart"

    class CartItem(Model):
        """One product in a cart: one line per product (the unique index below), ``quantity`` kept
        between 1 and 99 by the CHECK."""

        cart = ForeignKeyField(Cart, on_delete="CASCADE", column_name="cart_id")
        product_id = IntegerField()
        quantity = IntegerField(constraints=[Check("quantity BETWEEN 1 AND 99")])
        added_at = DateTimeField()

        class Meta:
            table_name = "cart_items"

    class Order(Model):
        """A placed order with what checkout saw (the address as JSON, its totals), one per catalog
        reservation. Money is INTEGER at this step: 0003 widens it to BIGINT."""

        id = AutoField()  # named by the index below
        user_id = IntegerField()
        address_id = IntegerField()
        order_status = CharField(max_length=20)
        payment_status = CharField(max_length=20)
        currency = CharField(max_length=3)
        subtotal = IntegerField(constraints=[Check("subtotal >= 0")])
        total = IntegerField(constraints=[Check("total >= 0")])
        item_count = IntegerField()
        shipping_address = TextField()
        reservation = CharField(max_length=100, unique=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        expires_at = DateTimeField(null=True)

        class Meta:
            table_name = "orders"

    class OrderItem(Model):
        """A line of an order with the product's name, SKU and price copied at checkout, so later changes
        to the product never change an order."""

        order = ForeignKeyField(Order, on_delete="CASCADE", column_name="order_id")
        product_id = IntegerField()
        product_name = CharField(max_length=200)
        sku = CharField(max_length=64)
        unit_price = IntegerField()
        quantity = IntegerField()
        line_total = IntegerField()

        class Meta:
            table_name = "order_items"

    CartItem.add_index(CartItem.cart, CartItem.product_id, unique=True, name="cart_items_cart_product")
    Order.add_index(Order.user_id, Order.id, name="orders_user_id_id")
    Order.add_index(Order.order_status, Order.expires_at, name="orders_status_expires")
    Order.add_index(Order.order_status, Order.created_at, Order.id, name="orders_status_created")
    create_tables(db, [Cart, CartItem, Order, OrderItem])


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("order_items", "orders", "cart_items", "cart"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
