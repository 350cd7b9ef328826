"""Integration events the payments module publishes (the contract orders and notifications rely on)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class PaymentSucceeded(IntegrationEvent):
    name = "payments.PaymentSucceeded"
    version = 1

    payment_id: int
    order_id: int
    user_id: int
    amount: int
    currency: str


@dataclass(frozen=True)
class PaymentFailed(IntegrationEvent):
    name = "payments.PaymentFailed"
    version = 1

    payment_id: int
    order_id: int
    user_id: int
    reason: str


@dataclass(frozen=True)
class PaymentRefunded(IntegrationEvent):
    name = "payments.PaymentRefunded"
    version = 1

    payment_id: int
    order_id: int
    user_id: int
    amount: int
    currency: str
    fully_refunded: bool
