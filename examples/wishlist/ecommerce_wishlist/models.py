"""The wishlist's own table (private: other modules never import this file)."""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, IntegerField, Model

from ecommerce.kernel.module import module_storage

MODULE = "wishlist"
#: A proxy the kernel binds at start-up to this module's own database (ECOMMERCE_DATABASE_URL_WISHLIST, ...),
#: and this module's outbox and inbox in that database: events commit with the state change.
database, events = module_storage(MODULE)


class Wish(Model):
    id = AutoField()
    user_id = IntegerField()  # the users module's id: a plain integer, never a foreign key
    product_id = IntegerField()  # the catalog's id, likewise
    note = CharField(max_length=200, default="")
    created_at = DateTimeField()

    class Meta:
        table_name = "wishes"


MODELS = [Wish]
