"""The order state machine, defined once: the service enforces it, the admin route offers it, the docs
draw it, and every other set of states (who may cancel, what counts as fulfilled) is derived from it.

``pending_payment -> paid -> fulfilled -> shipped -> delivered``; ``pending_payment -> cancelled | expired``;
``paid -> cancelled`` (with a refund: before fulfilment a refund *is* a cancellation);
``fulfilled | shipped | delivered -> refunded`` (the shop refunded the whole payment).
"""

from __future__ import annotations

from ecommerce.kernel.errors import Conflict

PENDING, PAID, FULFILLED, SHIPPED, DELIVERED = "pending_payment", "paid", "fulfilled", "shipped", "delivered"
CANCELLED, EXPIRED, REFUNDED = "cancelled", "expired", "refunded"
STATES = (PENDING, PAID, FULFILLED, SHIPPED, DELIVERED, CANCELLED, EXPIRED, REFUNDED)

#: from -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, CANCELLED, EXPIRED}),
    PAID: frozenset({FULFILLED, CANCELLED}),
    FULFILLED: frozenset({SHIPPED, REFUNDED}),
    SHIPPED: frozenset({DELIVERED, REFUNDED}),
    DELIVERED: frozenset({REFUNDED}),
    CANCELLED: frozenset(),
    EXPIRED: frozenset(),
    REFUNDED: frozenset(),
}
#: what an admin may do by hand (paid, expired and refunded come from payments and the expiry job)
ADMIN_TARGETS = frozenset({FULFILLED, SHIPPED, DELIVERED, CANCELLED})


def reachable(source: str, table: dict[str, frozenset[str]] = TRANSITIONS) -> frozenset[str]:
    """Every state ``source`` can get to in one or more moves (itself only through a cycle)."""
    seen: set[str] = set()
    todo = list(table[source])
    while todo:
        state = todo.pop()
        if state not in seen:
            seen.add(state)
            todo.extend(table[state])
    return frozenset(seen)


def before_fulfilment(table: dict[str, frozenset[str]] = TRANSITIONS) -> frozenset[str]:
    """States from which the order can still be fulfilled: nothing has left the warehouse yet."""
    return frozenset(state for state in table if FULFILLED in reachable(state, table))


def customer_cancellable(table: dict[str, frozenset[str]] = TRANSITIONS) -> frozenset[str]:
    """States a customer may cancel from: the table allows ``cancelled`` *and* fulfilment has not started,
    so even a wrong ``fulfilled -> cancelled`` entry would not let a customer cancel a packed order."""
    return frozenset(state for state in before_fulfilment(table) if CANCELLED in table[state])


#: final states: nothing moves out of them
FINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
#: a customer may cancel until the order is fulfilled (shipping has not started): pending_payment, paid
CUSTOMER_CANCELLABLE = customer_cancellable()
#: fulfilment has started and the order is still live: fulfilled, shipped, delivered. Only the shop refunds.
AFTER_FULFILMENT = frozenset(({FULFILLED} | reachable(FULFILLED)) - FINAL)
#: ended before fulfilment without being paid for good: money captured for them goes back
CLOSED_UNFULFILLED = frozenset({CANCELLED, EXPIRED})

PAYMENT_STATUSES = ("unpaid", "failed", "paid", "refunded", "partially_refunded")


def illegal(current: str, target: str) -> Conflict:
    """The 409 for a move the table does not allow (or that lost a race), naming both states: the one
    wording every refusal uses."""
    return Conflict(f"An order cannot go from {current} to {target}.")


def check(current: str, target: str) -> None:
    """Raise a 409 naming both states when ``current -> target`` is not a transition."""
    if target not in STATES:
        raise Conflict(f"Unknown order state {target!r}.")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise illegal(current, target)


def graphviz() -> str:
    """The machine in Graphviz DOT. ``ecommerce diagrams`` writes it (and its PNG) into ``diagrams/``
    with the other drawings; a test fails if the committed drawing no longer matches this table."""
    who = {PAID: "payment", EXPIRED: "expiry job", REFUNDED: "full refund by the shop"}
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
                label = "customer or admin" + (" (a refund)" if source == PAID else "")
            lines.append(f'  {source} -> {target} [label="{label}"];')
    for final in (CANCELLED, EXPIRED, REFUNDED):
        lines.append(f'  {final} [fillcolor="#f6e7e7"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # print the drawing (`ecommerce diagrams` writes it with the others)
    print(graphviz(), end="")
