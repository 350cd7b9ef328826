"""Integration events the payments module publishes (the contract orders and notifications rely on)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class _OfAPayment(IntegrationEvent):
    """What every payments event says first: which payment, of which order, by whom."""

    payment_id: int
    order_id: int
    user_id: int


@dataclass(frozen=True)
class _OfAnAmount(_OfAPayment):
    """A payment event that moved money: how much, in which currency (minor units)."""

    amount: int
    currency: str


@dataclass(frozen=True)
class PaymentSucceeded(_OfAnAmount):
    name = "payments.PaymentSucceeded"
    version = 1


@dataclass(frozen=True)
class PaymentFailed(_OfAPayment):
    name = "payments.PaymentFailed"
    version = 1

    reason: str


@dataclass(frozen=True)
class PaymentRefunded(_OfAnAmount):
    name = "payments.PaymentRefunded"
    version = 1

    fully_refunded: bool
