"""Refunds become reconcilable: ``refunds.updated_at``, an index for "pending refunds, oldest first",
and the simulator's refund ledger (idempotent by refund reference, like a processor's)."""

from peewee import CharField, Database, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator, migrate

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class SimulatorRefund(Model):
        reference = CharField(max_length=100, unique=True)
        charge_reference = CharField(max_length=40)
        amount = IntegerField()
        outcome = CharField(max_length=16)
        created_at = DateTimeField()

        class Meta:
            table_name = "gateway_simulator_refunds"

    migrate(
        migrator.add_column("refunds", "updated_at", DateTimeField(null=True)),
        migrator.add_index("refunds", ("status", "created_at"), False),
    )
    create_tables(db, [SimulatorRefund])


def down(migrator: SchemaMigrator, db: Database) -> None:
    db.execute_sql('DROP TABLE IF EXISTS "gateway_simulator_refunds"')
    migrate(migrator.drop_index("refunds", "refunds_status_created_at"), migrator.drop_column("refunds", "updated_at"))
