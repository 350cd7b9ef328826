"""The recommendations read model: order facts, co-purchase pairs, sales, product categories.

Index names carry the module prefix (one shared SQLite file has one index namespace).
"""

from peewee import BooleanField, CompositeKey, Database, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class OrderFacts(Model):
        """What the order events said of one order: flags that only ever go from False to True, and
        ``counted`` when its purchases are in the counts."""

        order_id = IntegerField(primary_key=True)
        user_id = IntegerField()
        placed = BooleanField(default=False)
        paid = BooleanField(default=False)
        void = BooleanField(default=False)
        counted = BooleanField(default=False)
        placed_at = DateTimeField(null=True)

        class Meta:
            table_name = "recommendations_orders"

    class OrderLine(Model):
        """Units of one product in one order, as its "placed" event listed them, kept to count or
        uncount the order later."""

        order_id = IntegerField()
        product_id = IntegerField()
        quantity = IntegerField()

        class Meta:
            table_name = "recommendations_order_lines"
            primary_key = CompositeKey("order_id", "product_id")

    class Pair(Model):
        """Bought together: how many counted orders held both products, stored in both directions for
        the ``recommendations_pairs_top`` index below."""

        product_id = IntegerField()
        other_id = IntegerField()
        orders = IntegerField(default=0)

        class Meta:
            table_name = "recommendations_pairs"
            primary_key = CompositeKey("product_id", "other_id")

    class Sales(Model):
        """Popularity of one product: counted orders and units, ranked by the
        ``recommendations_sales_top`` index below."""

        product_id = IntegerField(primary_key=True)
        orders = IntegerField(default=0)
        units = IntegerField(default=0)

        class Meta:
            table_name = "recommendations_sales"

    class ProductCategory(Model):
        """The category the catalog gave a sold product (reference data from the catalog's facade,
        not rebuilt from the events)."""

        product_id = IntegerField(primary_key=True)
        category_id = IntegerField(null=True)

        class Meta:
            table_name = "recommendations_categories"

    # "What did this user buy" (user recommendations), "most bought together with X", "popular".
    OrderFacts.add_index(OrderFacts.user_id, OrderFacts.counted, name="recommendations_orders_user")
    Pair.add_index(Pair.product_id, Pair.orders.desc(), name="recommendations_pairs_top")
    Sales.add_index(Sales.orders.desc(), Sales.product_id, name="recommendations_sales_top")
    ProductCategory.add_index(ProductCategory.category_id, name="recommendations_categories_category")
    create_tables(db, [OrderFacts, OrderLine, Pair, Sales, ProductCategory])


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("recommendations_categories", "recommendations_sales", "recommendations_pairs",
                  "recommendations_order_lines", "recommendations_orders"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
