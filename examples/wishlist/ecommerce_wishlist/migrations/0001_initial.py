"""wishes, with one row per (user, product) enforced by a unique index."""

from peewee import CharField, Database, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    # The model as it is *at this migration*, declared here: later changes to models.py must not
    # change what an old migration creates. No ``id``: peewee adds the auto-increment key itself.
    class Wish(Model):
        user_id = IntegerField()
        product_id = IntegerField(index=True)
        note = CharField(max_length=200, default="")
        created_at = DateTimeField()

        class Meta:
            table_name = "wishes"
            indexes = ((("user_id", "product_id"), True),)

    create_tables(db, [Wish])  # binds the frozen model to the module's database, then creates it


def down(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql("DROP TABLE IF EXISTS wishes")
