"""wishes, with one row per (user, product) enforced by a unique index."""

from peewee import AutoField, CharField, Database, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator


def up(migrator: SchemaMigrator, db: Database) -> None:
    # The model as it is *at this migration*, declared here: later changes to models.py must not
    # change what an old migration creates.
    class Wish(Model):
        id = AutoField()
        user_id = IntegerField()
        product_id = IntegerField(index=True)
        note = CharField(max_length=200, default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "wishes"
            indexes = ((("user_id", "product_id"), True),)

    db.create_tables([Wish])


def down(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql("DROP TABLE IF EXISTS wishes")
