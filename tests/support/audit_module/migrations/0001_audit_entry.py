"""audit_entry."""

from peewee import AutoField, CharField, Database, IntegerField, Model
from playhouse.migrate import SchemaMigrator


def up(migrator: SchemaMigrator, db: Database) -> None:
    class AuditEntry(Model):
        id = AutoField()
        event_id = CharField(max_length=36)
        user_id = IntegerField()

        class Meta:
            database = db
            table_name = "audit_entry"

    db.create_tables([AuditEntry])
