"""The payment gateway adapter interface, and the simulator that stands in for a processor by default.

The simulator behaves like a processor's sandbox with test cards (any future expiry, any CVC):

| card number          | outcome                                                      |
|----------------------|--------------------------------------------------------------|
| 4242 4242 4242 4242  | approved                                                     |
| 4000 0000 0000 0002  | declined (``card_declined``)                                 |
| 4000 0000 0000 9995  | declined (``insufficient_funds``)                            |
| 4000 0000 0000 0119  | times out — but *was* charged: reconciliation finds it approved |
| 4000 0000 0000 0127  | answers garbage — it was *not* charged: reconciliation fails it  |
| any other valid card | approved                                                     |

Charges are idempotent by ``reference``, as at real processors: a retried request never charges twice.
Refunds are idempotent by their own reference too, so a refund whose answer was lost can simply be sent
again. A refund of exactly ``119`` minor units (1.19) is carried out but its answer times out — the
refund counterpart of the timeout card, for reconciliation tests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from peewee import IntegrityError

from ecommerce.modules.payments.models import SimulatorCharge, SimulatorRefund, database

APPROVED, DECLINED = "approved", "declined"


class GatewayTimeout(Exception):
    """No answer in time: the charge may or may not have happened."""


class GatewayProtocolError(Exception):
    """An answer that cannot be understood: the outcome is unknown."""


@dataclass(frozen=True)
class GatewayResult:
    outcome: str  # approved | declined
    response_code: str
    response_message: str
    authorization_code: str | None = None


class Gateway(Protocol):
    def authorize(self, reference: str, amount: int, currency: str, number: str, cvc: str | None) -> GatewayResult:
        ...

    def lookup(self, reference: str) -> GatewayResult | None:
        """What the processor knows of a charge (for reconciliation); None if it never saw it."""
        ...

    def refund(self, charge_reference: str, refund_reference: str, amount: int) -> GatewayResult:
        """Refund part of a charge; the same ``refund_reference`` twice refunds once."""
        ...

    def lookup_refund(self, refund_reference: str) -> GatewayResult | None:
        """What the processor knows of a refund; None if it never saw it."""
        ...


TEST_CARDS = {
    "4000000000000002": ("card_declined", "The card was declined."),
    "4000000000009995": ("insufficient_funds", "Insufficient funds."),
}
TIMEOUT_CARD, GARBAGE_CARD = "4000000000000119", "4000000000000127"
TIMEOUT_REFUND_AMOUNT = 119


class SimulatedGateway:
    """Keeps its ledger in ``gateway_simulator_charges`` so every worker sees the same processor."""

    def authorize(self, reference: str, amount: int, currency: str, number: str, cvc: str | None) -> GatewayResult:
        if number == GARBAGE_CARD:
            raise GatewayProtocolError("unparseable response from the processor")
        declined = TEST_CARDS.get(number)
        result = (
            GatewayResult(DECLINED, declined[0], declined[1]) if declined
            else GatewayResult(APPROVED, "approved", "Approved.", "AUTH-" + secrets.token_hex(4).upper())
        )
        try:
            SimulatorCharge.create(reference=reference, amount=amount, outcome=result.outcome
                                   + (":" + (result.authorization_code or result.response_code)))
        except IntegrityError:
            existing = self.lookup(reference)  # the same reference again: answer as before, charge nothing
            assert existing is not None
            return existing
        if number == TIMEOUT_CARD:
            raise GatewayTimeout("the processor did not answer in time")
        return result

    def lookup(self, reference: str) -> GatewayResult | None:
        row = SimulatorCharge.get_or_none(SimulatorCharge.reference == reference)
        if row is None:
            return None
        outcome, _, detail = row.outcome.partition(":")
        if outcome == APPROVED:
            return GatewayResult(APPROVED, "approved", "Approved.", detail)
        message = dict(TEST_CARDS.values()).get(detail, "Declined.")
        return GatewayResult(DECLINED, detail, message)

    def refund(self, charge_reference: str, refund_reference: str, amount: int) -> GatewayResult:
        try:
            with database.atomic():
                SimulatorRefund.create(reference=refund_reference, charge_reference=charge_reference,
                                       amount=amount, outcome=DECLINED)
                updated = (
                    SimulatorCharge.update(refunded=SimulatorCharge.refunded + amount)
                    .where((SimulatorCharge.reference == charge_reference)
                           & (SimulatorCharge.refunded + amount <= SimulatorCharge.amount))
                    .execute()
                )
                if updated == 1:
                    approved = SimulatorRefund.update(outcome=APPROVED)
                    approved.where(SimulatorRefund.reference == refund_reference).execute()
        except IntegrityError:  # this refund reference again: answer as before, refund nothing more
            existing = self.lookup_refund(refund_reference)
            assert existing is not None
            return existing
        if amount == TIMEOUT_REFUND_AMOUNT:
            raise GatewayTimeout("the processor did not answer the refund in time")
        result = self.lookup_refund(refund_reference)
        assert result is not None
        return result

    def lookup_refund(self, refund_reference: str) -> GatewayResult | None:
        row = SimulatorRefund.get_or_none(SimulatorRefund.reference == refund_reference)
        if row is None:
            return None
        if row.outcome == APPROVED:
            return GatewayResult(APPROVED, "refunded", "Refunded.")
        return GatewayResult(DECLINED, "refund_refused", "The processor refused the refund.")
