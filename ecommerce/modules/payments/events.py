"""Integration events the payments module publishes (the contract orders and notifications rely on)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent, integration_event


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


@integration_event("payments.PaymentSucceeded")
class PaymentSucceeded(_OfAnAmount):
    """The charge went through: the order is paid."""


@integration_event("payments.PaymentFailed")
class PaymentFailed(_OfAPayment):
    reason: str


@integration_event("payments.PaymentRefunded")
class PaymentRefunded(_OfAnAmount):
    fully_refunded: bool
