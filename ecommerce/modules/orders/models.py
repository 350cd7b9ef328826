"""The orders module's tables (private: other modules use ``orders.api``).

No foreign keys into other modules: ``user_id``, ``address_id`` and ``product_id`` are plain integers,
and what an order must remember (the address, product names and prices) is copied in as a snapshot.
"""

from __future__ import annotations

from peewee import AutoField, CharField, Check, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.columns import MoneyField
from ecommerce.kernel.idempotency import IdempotencyStore
from ecommerce.kernel.module import module_storage

MODULE = "orders"
database, events = module_storage(MODULE)
idempotency = IdempotencyStore(MODULE, database)


class Cart(Model):
    """A customer's cart: one per user (``user_id`` unique, so concurrent first adds make one cart). Its lines
    wait here until checkout, which removes the units it ordered; prices are never stored, always the catalog's.
    Every change of the cart touches its row first (``cart.py``): ``updated_at`` is the last change, and the
    idle-cart purge deletes by it (indexed since migration 0004)."""

    id = AutoField()
    user_id = IntegerField(unique=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "cart"


class CartItem(Model):
    """One product in a cart: one line per product (unique ``(cart_id, product_id)``), so adding it again adds
    to ``quantity``, which a CHECK keeps between 1 and 99."""

    id = AutoField()
    cart = ForeignKeyField(Cart, backref="items", on_delete="CASCADE", column_name="cart_id")
    product_id = IntegerField()
    quantity = IntegerField(constraints=[Check("quantity BETWEEN 1 AND 99")])
    added_at = DateTimeField(default=utcnow)
    cart_id: int

    class Meta:
        table_name = "cart_items"


class Order(Model):
    """A placed order. It keeps what checkout saw (``shipping_address`` as JSON, totals, its lines' names and
    prices), never a live reference into the users or catalog modules; ``order_status`` moves only along
    ``states.TRANSITIONS``, and ``reservation`` (unique) ties it to exactly one catalog reservation."""

    id = AutoField()
    user_id = IntegerField()
    address_id = IntegerField()
    order_status = CharField(max_length=20)
    payment_status = CharField(max_length=20)
    currency = CharField(max_length=3)
    # BIGINT since migration 0003 (was 32-bit: kernel.columns says why).
    subtotal = MoneyField(constraints=[Check("subtotal >= 0")])
    total = MoneyField(constraints=[Check("total >= 0")])
    item_count = IntegerField()
    shipping_address = TextField()  # JSON snapshot of the address at checkout
    reservation = CharField(max_length=100, unique=True)  # the catalog reservation's reference
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)  # unpaid orders expire (and release their stock) after this

    class Meta:
        table_name = "orders"


class OrderItem(Model):
    """A line of an order, priced at checkout: ``product_name``, ``sku`` and ``unit_price`` are copies, so
    renaming, repricing or deleting the product later never changes an order."""

    id = AutoField()
    order = ForeignKeyField(Order, backref="items", on_delete="CASCADE", column_name="order_id")
    product_id = IntegerField()
    product_name = CharField(max_length=200)
    sku = CharField(max_length=64)
    unit_price = MoneyField()
    quantity = IntegerField()
    line_total = MoneyField()
    order_id: int

    class Meta:
        table_name = "order_items"


MODELS = [Cart, CartItem, Order, OrderItem]
