"""The embedded document store's one table: a notification document per row.

The document itself (recipient email, template, rendered subject and body, source event) is immutable
JSON in ``content``; the fields that change after creation (status, attempts, lease, read/sent times)
and the ones queries sort or filter on are plain columns, each changed by one conditional UPDATE, so
concurrent writers (a delivery worker, a reader marking it read) never overwrite each other's changes.
Nothing here joins another module's tables.
"""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, Model, TextField

from ecommerce.kernel.module import module_storage

MODULE = "notifications"
database, events = module_storage(MODULE)


class NotificationDocument(Model):
    """One notification (an email to send and an entry in the user's feed). ``id`` is derived from the source
    event and the template, so an event delivered twice makes one document; workers claim a pending one by a
    conditional UPDATE of ``claim`` and ``due_at``, and a job purges it after ``expires_at``."""

    id = CharField(max_length=36, primary_key=True)  # uuid5(event id + template): the dedup key
    recipient_id = IntegerField()
    created_at = DateTimeField()
    status = CharField(max_length=16)  # pending -> sent | failed
    attempts = IntegerField(default=0)
    due_at = DateTimeField(null=True)  # pending: when a worker may (re)try; None once sent or failed
    claim = CharField(max_length=36, null=True)  # the lease holder's token while sending
    sent_at = DateTimeField(null=True)
    failed_at = DateTimeField(null=True)
    read_at = DateTimeField(null=True)
    last_error = TextField(null=True)
    expires_at = DateTimeField()  # retention: hidden after, purged by a job
    content = TextField()  # the JSON document

    class Meta:
        table_name = "notification_documents"


MODELS = [NotificationDocument]
