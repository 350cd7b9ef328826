"""``cart.updated_at`` becomes the time of the cart's last change, indexed for the idle-cart purge.

Until now ``updated_at`` was written when the cart was made and never again; every change of a cart now
moves it (``orders.cart``), and the ``purge-idle-carts`` job deletes the carts unchanged for the module's
``cart_ttl``. The index ``cart_updated_at`` serves exactly that query: "unchanged since the cutoff, oldest
first".

Carts that exist when this runs get the best evidence there is of their last change: the time their
newest line was added, where that is later than ``updated_at`` — so a cart made long ago but filled last
week is not purged as if it had been idle since it was made.
"""

from peewee import Database
from playhouse.migrate import SchemaMigrator, migrate

LAST_LINE_ADDED = """
UPDATE cart SET updated_at = (SELECT MAX(added_at) FROM cart_items WHERE cart_items.cart_id = cart.id)
WHERE EXISTS (SELECT 1 FROM cart_items WHERE cart_items.cart_id = cart.id AND cart_items.added_at > cart.updated_at)
"""


def up(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql(LAST_LINE_ADDED)
    migrate(migrator.add_index("cart", ("updated_at",), False))


def down(migrator: SchemaMigrator, db: Database) -> None:
    migrate(migrator.drop_index("cart", "cart_updated_at"))
