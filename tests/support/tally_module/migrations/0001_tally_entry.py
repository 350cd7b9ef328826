"""tally_entry."""

from peewee import AutoField, CharField, Database, Model
from playhouse.migrate import SchemaMigrator


def up(migrator: SchemaMigrator, db: Database) -> None:
    class TallyEntry(Model):
        id = AutoField()
        event_id = CharField(max_length=36)
        handler = CharField(max_length=200)

        class Meta:
            database = db
            table_name = "tally_entry"

    db.create_tables([TallyEntry])
