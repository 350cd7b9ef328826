"""tokens, payment, payment_logs, refunds, gateway_simulator_charges (frozen copy of the models).

Indexes and the queries they serve:
- tokens value (unique): the token a charge names; (user_id, fingerprint): "my cards" and duplicates;
- payment reference_id (unique): the gateway's idempotency reference;
- payment order_id unique WHERE status IN ('pending', 'succeeded'): an order has at most one live
  payment — a second charge attempt is refused by the database, not by a look-up first;
- payment (status, created_at): reconciliation of pending payments;
- payment_logs payment_id, refunds payment_id: the trail of one payment; refunds reference (unique).
"""

from peewee import (
    SQL,
    BlobField,
    CharField,
    Check,
    Database,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class Token(Model):
        """A saved card: ``value`` is the public token, the number is stored only encrypted (under the key
        ``key_id`` names) and the CVC not at all."""

        value = CharField(max_length=40, unique=True)
        user_id = IntegerField()
        payment_method = CharField(max_length=16, default="card")
        brand = CharField(max_length=16)
        last4 = CharField(max_length=4)
        exp_month = IntegerField()
        exp_year = IntegerField()
        expiry = DateTimeField()
        holder_name = CharField(max_length=100, null=True)
        key_id = CharField(max_length=32)
        encrypted_number = BlobField()
        fingerprint = CharField(max_length=64)
        created_at = DateTimeField()
        deleted_at = DateTimeField(null=True)

        class Meta:
            table_name = "tokens"

    class Payment(Model):
        """One charge of an order on a saved card; the CHECK keeps ``refunded_amount`` within ``amount``,
        and the partial unique index below allows one live payment per order."""

        order_id = IntegerField()
        user_id = IntegerField()
        amount = IntegerField(constraints=[Check("amount > 0")])
        currency = CharField(max_length=3)
        status = CharField(max_length=16)
        reference_id = CharField(max_length=40, unique=True)
        payment_method = CharField(max_length=16, default="card")
        authorization_code = CharField(max_length=64, null=True)
        response_code = CharField(max_length=32, null=True)
        response_message = CharField(max_length=255, null=True)
        token = ForeignKeyField(Token, column_name="token_id", on_delete="RESTRICT")
        refunded_amount = IntegerField(default=0)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "payment"
            constraints = [SQL("CHECK (refunded_amount >= 0 AND refunded_amount <= amount)")]

    class PaymentLog(Model):
        """One step of a payment's trail (never card data), read back for support and audits by ``payment_id``."""

        payment = ForeignKeyField(Payment, column_name="payment_id", on_delete="CASCADE")
        step = CharField(max_length=32)
        log_message = TextField()
        created_at = DateTimeField()

        class Meta:
            table_name = "payment_logs"

    class Refund(Model):
        """Money given back on a payment under its own ``reference`` (unique: sent twice, refunded once);
        0002 adds ``updated_at`` for reconciliation."""

        payment = ForeignKeyField(Payment, column_name="payment_id", on_delete="CASCADE")
        amount = IntegerField(constraints=[Check("amount > 0")])
        reference = CharField(max_length=100, unique=True)
        status = CharField(max_length=16)
        created_at = DateTimeField()

        class Meta:
            table_name = "refunds"

    class SimulatorCharge(Model):
        """The gateway simulator's ledger of charges, one per reference, so a retried charge is answered,
        not repeated (a stand-in for the processor's books)."""

        reference = CharField(max_length=40, unique=True)
        amount = IntegerField()
        outcome = CharField(max_length=32)
        refunded = IntegerField(default=0)
        created_at = DateTimeField()

        class Meta:
            table_name = "gateway_simulator_charges"

    Token.add_index(Token.user_id, Token.fingerprint, name="tokens_user_fingerprint")
    Payment.add_index(Payment.order_id, unique=True, where=SQL("status IN ('pending', 'succeeded')"),
                      name="payment_one_live_per_order")
    Payment.add_index(Payment.status, Payment.created_at, name="payment_status_created")
    create_tables(db, [Token, Payment, PaymentLog, Refund, SimulatorCharge])


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("gateway_simulator_charges", "refunds", "payment_logs", "payment", "tokens"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
