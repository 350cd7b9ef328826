"""A reservation carries a deadline: ``reservations.expires_at``, and an index for the sweep.

A process killed between reserving stock and writing its order (issue 14) left a ``held`` reservation
that nothing would ever release. Every reservation now holds its units only until ``expires_at``; the
catalog's sweep (the ``expire-reservations`` job) expires the ones still held after it. The index
``(status, expires_at)`` serves exactly that query: "held, deadline passed, oldest first".

Reservations already held when this runs get ``created_at`` + 30 minutes (the default
``ECOMMERCE_ORDER_TTL``): an orphan of an old crash is released at the next sweep, and a live order whose
own deadline is later is still safe — paying it re-takes its units (``reservations.commit``).
"""

import datetime

from peewee import AutoField, CharField, Database, DateTimeField, Model
from playhouse.migrate import SchemaMigrator, migrate

LEGACY_HOLD = datetime.timedelta(minutes=30)


def up(migrator: SchemaMigrator, db: Database) -> None:
    migrate(
        migrator.add_column("reservations", "expires_at", DateTimeField(null=True)),
        migrator.add_index("reservations", ("status", "expires_at"), False),
    )

    class Reservation(Model):
        id = AutoField()
        status = CharField(max_length=16)
        created_at = DateTimeField()
        expires_at = DateTimeField(null=True)

        class Meta:
            table_name = "reservations"

    db.bind([Reservation])
    for row in Reservation.select().where(Reservation.status == "held"):
        Reservation.update(expires_at=row.created_at + LEGACY_HOLD).where(Reservation.id == row.id).execute()


def down(migrator: SchemaMigrator, db: Database) -> None:
    migrate(migrator.drop_index("reservations", "reservations_status_expires_at"),
            migrator.drop_column("reservations", "expires_at"))
