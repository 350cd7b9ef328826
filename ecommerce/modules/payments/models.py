"""The payments module's tables. The only place in the system where card data exists — and even here
only encrypted (the card number) or not at all (the CVC)."""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BlobField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.columns import MoneyField
from ecommerce.kernel.idempotency import IdempotencyStore
from ecommerce.kernel.module import module_storage

MODULE = "payments"
database, events = module_storage(MODULE)
#: Card data in a request body never enters its stored fingerprint, even hashed (a CVC is 3-4 digits).
CARD_FIELDS = frozenset({"cvc", "card_number"})
idempotency = IdempotencyStore(MODULE, database, sensitive=CARD_FIELDS)


class Token(Model):
    """A saved card. ``value`` is the public token (``tok_...``); the number is AES-GCM encrypted under the
    key ``key_id`` names. Forgetting a card wipes the ciphertext and sets ``deleted_at``: the row stays for the
    payments that used it."""

    id = AutoField()
    value = CharField(max_length=40, unique=True)
    user_id = IntegerField()
    payment_method = CharField(max_length=16, default="card")
    brand = CharField(max_length=16)
    last4 = CharField(max_length=4)
    exp_month = IntegerField()
    exp_year = IntegerField()
    expiry = DateTimeField()  # the end of the expiry month
    holder_name = CharField(max_length=100, null=True)
    key_id = CharField(max_length=32)
    encrypted_number = BlobField()
    fingerprint = CharField(max_length=64)  # keyed HMAC of the number: spots duplicates without decrypting
    created_at = DateTimeField(default=utcnow)
    deleted_at = DateTimeField(null=True)

    class Meta:
        table_name = "tokens"


class Payment(Model):
    """One charge of an order on a saved card. The amount comes from the order, never the client. A partial
    unique index lets an order have one live (pending or succeeded) payment at most; a CHECK keeps
    ``refunded_amount`` between 0 and ``amount``; ``reference_id`` is our idempotency key at the gateway."""

    id = AutoField()
    order_id = IntegerField()
    user_id = IntegerField()
    amount = MoneyField(constraints=[Check("amount > 0")])  # BIGINT since migration 0004
    currency = CharField(max_length=3)
    status = CharField(max_length=16)  # pending | succeeded | failed
    reference_id = CharField(max_length=40, unique=True)  # our idempotency reference at the gateway
    payment_method = CharField(max_length=16, default="card")
    authorization_code = CharField(max_length=64, null=True)
    response_code = CharField(max_length=32, null=True)
    response_message = CharField(max_length=255, null=True)
    token = ForeignKeyField(Token, column_name="token_id", on_delete="RESTRICT")
    refunded_amount = MoneyField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    token_id: int

    class Meta:
        table_name = "payment"
        constraints = [SQL("CHECK (refunded_amount >= 0 AND refunded_amount <= amount)")]


class PaymentLog(Model):
    """One step of a payment's trail (created, authorize, refund, reconcile...), for support and
    audits; never card data (brand and last four digits at most)."""

    id = AutoField()
    payment = ForeignKeyField(Payment, column_name="payment_id", on_delete="CASCADE")
    step = CharField(max_length=32)
    log_message = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "payment_logs"


class Refund(Model):
    """Money given back on a payment, under its own ``reference`` (unique: the gateway refunds a reference
    once). ``pending`` means sent with its answer unknown; reconciliation settles it later."""

    id = AutoField()
    payment = ForeignKeyField(Payment, column_name="payment_id", on_delete="CASCADE")
    amount = MoneyField(constraints=[Check("amount > 0")])
    reference = CharField(max_length=100, unique=True)
    status = CharField(max_length=16)  # pending (sent, answer unknown) | succeeded | failed
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(null=True)  # last attempt or settlement (migration 0002)
    payment_id: int

    class Meta:
        table_name = "refunds"


class SimulatorCharge(Model):
    """The gateway *simulator's* own ledger (a stand-in for the processor's books), so reconciliation
    and "charged exactly once" can be checked like against a real processor."""

    id = AutoField()
    reference = CharField(max_length=40, unique=True)
    amount = MoneyField()
    outcome = CharField(max_length=32)
    refunded = MoneyField(default=0)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "gateway_simulator_charges"


class SimulatorRefund(Model):
    """The simulator's refund ledger: one row per refund reference (unique), so a refund sent again after a lost
    answer is answered with its first outcome, not paid twice."""

    id = AutoField()
    reference = CharField(max_length=100, unique=True)
    charge_reference = CharField(max_length=40)
    amount = MoneyField()
    outcome = CharField(max_length=16)  # approved | declined
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "gateway_simulator_refunds"


MODELS = [Token, Payment, PaymentLog, Refund, SimulatorCharge, SimulatorRefund]
