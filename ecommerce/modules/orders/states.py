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


def graphviz() -> str:
    """The machine in Graphviz DOT. ``ecommerce diagrams`` writes it (and its PNG) into ``diagrams/``
    with the other drawings; a test fails if the committed drawing no longer matches this table."""
    who = {PAID: "payment", EXPIRED: "expiry job", REFUNDED: "refund"}
    lines = [
        "digraph order_states {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  start [shape=point, width=0.15, label=""];',
        f"  start -> {PENDING} [label=\"checkout\"];",
    ]
    for source, targets in TRANSITIONS.items():
        for target in sorted(targets):
            label = who.get(target, "admin" if target in ADMIN_TARGETS else "")
            if target == CANCELLED:
                label = "customer or admin"
            lines.append(f'  {source} -> {target} [label="{label}"];')
    for final in (CANCELLED, EXPIRED, REFUNDED):
        lines.append(f'  {final} [fillcolor="#f6e7e7"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # print the drawing (`ecommerce diagrams` writes it with the others)
    print(graphviz(), end="")
