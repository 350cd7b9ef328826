"""The order state machine, defined once: the service enforces it, the admin route offers it, the docs
draw it.

``pending_payment -> paid -> fulfilled -> shipped -> delivered``; ``pending_payment -> cancelled | expired``;
``paid -> cancelled`` (with a refund); ``paid | delivered -> refunded``.
"""

from __future__ import annotations

from ecommerce.kernel.errors import Conflict

PENDING, PAID, FULFILLED, SHIPPED, DELIVERED = "pending_payment", "paid", "fulfilled", "shipped", "delivered"
CANCELLED, EXPIRED, REFUNDED = "cancelled", "expired", "refunded"
STATES = (PENDING, PAID, FULFILLED, SHIPPED, DELIVERED, CANCELLED, EXPIRED, REFUNDED)

#: from -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, CANCELLED, EXPIRED}),
    PAID: frozenset({FULFILLED, CANCELLED, REFUNDED}),
    FULFILLED: frozenset({SHIPPED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset({REFUNDED}),
    CANCELLED: frozenset(),
    EXPIRED: frozenset(),
    REFUNDED: frozenset(),
}
#: what an admin may do by hand (paid, expired and refunded come from payments and the expiry job)
ADMIN_TARGETS = frozenset({FULFILLED, SHIPPED, DELIVERED, CANCELLED})
#: a customer may cancel until the order is fulfilled (shipping has not started)
CUSTOMER_CANCELLABLE = frozenset({PENDING, PAID})

PAYMENT_STATUSES = ("unpaid", "failed", "paid", "refunded", "partially_refunded")


def check(current: str, target: str) -> None:
    """Raise a 409 naming both states when ``current -> target`` is not a transition."""
    if target not in STATES:
        raise Conflict(f"Unknown order state {target!r}.")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"An order cannot go from {current} to {target}.")


def mermaid() -> str:
    """The machine as a Mermaid state diagram (the docs page embeds it)."""
    lines = ["stateDiagram-v2", f"    [*] --> {PENDING}"]
    for source, targets in TRANSITIONS.items():
        for target in sorted(targets):
            lines.append(f"    {source} --> {target}")
    for final in (DELIVERED, CANCELLED, EXPIRED, REFUNDED):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
