"""notification_documents: the embedded document store (JSON content + state columns).

Indexes serve the store's three queries: a recipient's feed newest first (recipient_id, created_at, id),
the unread count (recipient_id, read_at) and the delivery worker's poll (status, due_at).
"""

from peewee import CharField, Database, DateTimeField, IntegerField, Model, TextField
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class NotificationDocument(Model):
        id = CharField(max_length=36, primary_key=True)
        recipient_id = IntegerField()
        created_at = DateTimeField()
        status = CharField(max_length=16)
        attempts = IntegerField(default=0)
        due_at = DateTimeField(null=True)
        claim = CharField(max_length=36, null=True)
        sent_at = DateTimeField(null=True)
        failed_at = DateTimeField(null=True)
        read_at = DateTimeField(null=True)
        last_error = TextField(null=True)
        expires_at = DateTimeField(index=True)
        content = TextField()

        class Meta:
            table_name = "notification_documents"

    NotificationDocument.add_index(
        NotificationDocument.recipient_id, NotificationDocument.created_at, NotificationDocument.id,
        name="notification_documents_feed",
    )
    NotificationDocument.add_index(
        NotificationDocument.recipient_id, NotificationDocument.read_at, name="notification_documents_unread"
    )
    NotificationDocument.add_index(
        NotificationDocument.status, NotificationDocument.due_at, name="notification_documents_due"
    )
    create_tables(db, [NotificationDocument])


def down(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql("DROP TABLE IF EXISTS notification_documents")
