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

from peewee import BooleanField, CompositeKey, DateTimeField, IntegerField, Model

from ecommerce.kernel.module import module_storage

MODULE = "recommendations"
database, events = module_storage(MODULE)


class OrderFacts(Model):
    """What the order events said of one order. The flags only ever go from False to True, so events may come
    in any order or twice; ``counted`` moves by a conditional update only, so an order enters (and leaves)
    the counts exactly once."""

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
    """Units of one product in one order, as its "placed" event listed them (lines of the same product
    summed), kept so that a later "paid" or "void" can add the order to the counts or take it back out."""

    order_id = IntegerField()
    product_id = IntegerField()
    quantity = IntegerField()

    class Meta:
        table_name = "recommendations_order_lines"
        primary_key = CompositeKey("order_id", "product_id")


class Pair(Model):
    """Bought together: how many counted orders held both products. Stored in both directions, so the
    index ``(product_id, orders DESC)`` answers a product page with one seek."""

    product_id = IntegerField()
    other_id = IntegerField()
    orders = IntegerField(default=0)

    class Meta:
        table_name = "recommendations_pairs"
        primary_key = CompositeKey("product_id", "other_id")


class Sales(Model):
    """Popularity of one product: counted orders and units sold. The index ``(orders DESC, product_id)``
    serves "popular" and, joined with the categories, "popular in this category"."""

    product_id = IntegerField(primary_key=True)
    orders = IntegerField(default=0)
    units = IntegerField(default=0)

    class Meta:
        table_name = "recommendations_sales"


class ProductCategory(Model):
    """The category the catalog gave a sold product, upserted from the catalog's facade (reference data, not
    rebuilt from the event log): a product the catalog dropped keeps its last one, and reads filter it out."""

    product_id = IntegerField(primary_key=True)
    category_id = IntegerField(null=True)

    class Meta:
        table_name = "recommendations_categories"


#: The tables a rebuild recomputes from the event log (categories are reference data from the catalog).
MODEL_TABLES: list[type[Model]] = [OrderFacts, OrderLine, Pair, Sales]
MODELS: list[type[Model]] = [*MODEL_TABLES, ProductCategory]
