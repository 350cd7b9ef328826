"""The recommendations module's own read model, fed by order and catalog events.

Nothing here joins another module's tables. What is kept:
- ``recommendations_orders`` / ``_order_lines``: what we learned of each order from its events. Flags
  only ever go one way (placed, paid, void), so events can arrive in any order or twice; ``counted``
  says whether the order's purchases are in the counts below (placed and paid and not void).
- ``recommendations_pairs``: bought together — for each product, how many counted orders also held
  each other product (both directions stored, so one index seek answers a product page).
- ``recommendations_sales``: per product, counted orders and units (popularity).
- ``recommendations_categories``: each sold product's category, as the catalog says (reference data).
"""

from __future__ import annotations

from peewee import BooleanField, CompositeKey, DatabaseProxy, DateTimeField, IntegerField, Model

from ecommerce.kernel.events import EventTables

MODULE = "recommendations"
database = DatabaseProxy()
events = EventTables(MODULE, database)


class OrderFacts(Model):
    order_id = IntegerField(primary_key=True)
    user_id = IntegerField()
    placed = BooleanField(default=False)
    paid = BooleanField(default=False)
    void = BooleanField(default=False)  # cancelled, expired or refunded: never counts (again)
    counted = BooleanField(default=False)
    placed_at = DateTimeField(null=True)

    class Meta:
        table_name = "recommendations_orders"


class OrderLine(Model):
    order_id = IntegerField()
    product_id = IntegerField()
    quantity = IntegerField()

    class Meta:
        table_name = "recommendations_order_lines"
        primary_key = CompositeKey("order_id", "product_id")


class Pair(Model):
    product_id = IntegerField()
    other_id = IntegerField()
    orders = IntegerField(default=0)

    class Meta:
        table_name = "recommendations_pairs"
        primary_key = CompositeKey("product_id", "other_id")


class Sales(Model):
    product_id = IntegerField(primary_key=True)
    orders = IntegerField(default=0)
    units = IntegerField(default=0)

    class Meta:
        table_name = "recommendations_sales"


class ProductCategory(Model):
    product_id = IntegerField(primary_key=True)
    category_id = IntegerField(null=True)

    class Meta:
        table_name = "recommendations_categories"


#: The tables a rebuild recomputes from the event log (categories are reference data from the catalog).
MODEL_TABLES: list[type[Model]] = [OrderFacts, OrderLine, Pair, Sales]
MODELS: list[type[Model]] = [*MODEL_TABLES, ProductCategory]
