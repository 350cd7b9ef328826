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
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from peewee import IntegrityError

from ecommerce.modules.payments.models import SimulatorCharge

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

    def refund(self, reference: str, amount: int) -> GatewayResult:
        ...


TEST_CARDS = {
    "4000000000000002": ("card_declined", "The card was declined."),
    "4000000000009995": ("insufficient_funds", "Insufficient funds."),
}
TIMEOUT_CARD, GARBAGE_CARD = "4000000000000119", "4000000000000127"


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

    def refund(self, reference: str, amount: int) -> GatewayResult:
        updated = (
            SimulatorCharge.update(refunded=SimulatorCharge.refunded + amount)
            .where((SimulatorCharge.reference == reference)
                   & (SimulatorCharge.refunded + amount <= SimulatorCharge.amount))
            .execute()
        )
        if updated != 1:
            return GatewayResult(DECLINED, "refund_refused", "The processor refused the refund.")
        return GatewayResult(APPROVED, "refunded", "Refunded.")
