"""A test-only stand-in for the payments module: it publishes payment outcomes through a real outbox,
so the orders module's reactions are exercised exactly as the relay will deliver them."""

from __future__ import annotations

from peewee import DatabaseProxy

from ecommerce.kernel.events import EventTables
from ecommerce.kernel.module import Module
from ecommerce.modules.payments.events import PaymentFailed, PaymentRefunded, PaymentSucceeded

database = DatabaseProxy()
events = EventTables("paysim", database)


def succeed(order_id: int, user_id: int, amount: int, payment_id: int = 1) -> None:
    with database.atomic():
        events.publish(PaymentSucceeded(payment_id=payment_id, order_id=order_id, user_id=user_id, amount=amount,
                                        currency="USD"))


def fail(order_id: int, user_id: int, payment_id: int = 1) -> None:
    with database.atomic():
        events.publish(PaymentFailed(payment_id=payment_id, order_id=order_id, user_id=user_id, reason="declined"))


def refunded(order_id: int, user_id: int, amount: int, *, fully: bool, payment_id: int = 1) -> None:
    with database.atomic():
        events.publish(PaymentRefunded(payment_id=payment_id, order_id=order_id, user_id=user_id, amount=amount,
                                       currency="USD", fully_refunded=fully))


module = Module(name="paysim", description="Test payments publisher", database=database, events=events,
                publishes=[PaymentSucceeded, PaymentFailed, PaymentRefunded])
