"""The checkout sequence: the happy path from cart to paid order. The synchronous steps name real facade
functions (renaming one breaks this file, not the drawing silently); the asynchronous fan-out after each
event is read from the registry's subscriptions, so a new consumer appears by itself.

Drawn twice from one list of steps: a Graphviz table (rendered to PNG/SVG without any JavaScript) and a
Mermaid ``sequenceDiagram`` (readable as text, rendered by Git hosts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecommerce.devtools.drawings.dot import NOTICE, h
from ecommerce.devtools.drawings.facts import Facts
from ecommerce.kernel.events import IntegrationEvent
from ecommerce.modules.catalog import api as catalog_api
from ecommerce.modules.orders import api as orders_api
from ecommerce.modules.orders.events import OrderPlaced
from ecommerce.modules.payments.events import PaymentSucceeded
from ecommerce.modules.users import api as users_api


@dataclass(frozen=True)
class Step:
    sender: str
    receiver: str
    text: str
    reply: bool = False


def call(sender: str, function: Callable[..., Any], args: str) -> Step:
    """A synchronous facade call; the receiver is the module that defines ``function``."""
    receiver = function.__module__.split(".")[2]
    return Step(sender, receiver, f"{receiver}.api.{function.__name__}({args})")


def fan_out(facts: Facts, event: type[IntegrationEvent]) -> list[Step]:
    steps = []
    for flow in facts.flows:
        if flow.event == event.key():
            mode = "" if flow.atomic else ", idempotent"
            steps.append(Step("relay", flow.consumer,
                              f"{event.__name__} → {flow.handler.rsplit('.', 1)[-1]} (inbox{mode})"))
    return steps


def steps(facts: Facts) -> list[Step]:
    placed = [
        Step("client", "orders", "POST /api/v1/orders {address_id} + Idempotency-Key"),
        call("orders", users_api.address_snapshot, "user, address_id"),
        call("orders", catalog_api.snapshot, "product ids"),
        call("orders", catalog_api.reserve, "reference, lines"),
        Step("orders", "orders", "one transaction: order pending_payment, items, outbox OrderPlaced, empty cart"),
        Step("orders", "client", "201 order (pending_payment)", reply=True),
        Step("orders", "relay", "OrderPlaced (after commit)"),
        *fan_out(facts, OrderPlaced),
    ]
    paid = [
        Step("client", "payments", "POST /api/v1/payments {order_id, token_id} + Idempotency-Key"),
        call("payments", orders_api.payable, "user, order_id"),
        Step("payments", "gateway", "authorize(reference, amount, card)"),
        Step("gateway", "payments", "approved", reply=True),
        Step("payments", "payments", "one transaction: payment succeeded, log, outbox PaymentSucceeded"),
        Step("payments", "client", "201 payment (succeeded)", reply=True),
        Step("payments", "relay", "PaymentSucceeded (after commit)"),
        *fan_out(facts, PaymentSucceeded),
        call("orders", catalog_api.commit, "reference"),
    ]
    return placed + paid


def participants(all_steps: list[Step]) -> list[str]:
    order = ["client", "orders", "users", "catalog", "payments", "gateway", "relay"]
    seen = {s.sender for s in all_steps} | {s.receiver for s in all_steps}
    return [p for p in order if p in seen] + sorted(seen - set(order))


TITLES = {"client": "Client", "gateway": "Card gateway\n(adapter)", "relay": "Outbox relay"}


def source(facts: Facts) -> str:
    """A Graphviz drawing: one HTML table whose columns are the participants and rows the steps."""
    all_steps = steps(facts)
    cols = participants(all_steps)
    head = "".join(f'<TD BGCOLOR="#c5cae9"><B>{h(TITLES.get(p, p)).replace(chr(10), "<BR/>")}</B></TD>'
                   for p in cols)
    rows = [f'<TR><TD BGCOLOR="#c5cae9"><B>#</B></TD>{head}</TR>']
    for number, step in enumerate(all_steps, 1):
        a, b = cols.index(step.sender), cols.index(step.receiver)
        low, high = min(a, b), max(a, b)
        if a == b:
            text = f"⟲ {step.text}"
        elif a < b:
            text = f"{step.text} ⟶"
        else:
            text = f"⟵ {step.text}"
        color = "#616161" if step.reply else "#000000"
        cells = ['<TD> </TD>'] * low
        cells.append(f'<TD COLSPAN="{high - low + 1}" ALIGN="{"LEFT" if a <= b else "RIGHT"}" '
                     f'BGCOLOR="{"#f5f5f5" if step.reply else "#ffffff"}"><FONT COLOR="{color}">{h(text)}</FONT></TD>')
        cells += ['<TD> </TD>'] * (len(cols) - high - 1)
        rows.append(f'<TR><TD>{number}</TD>{"".join(cells)}</TR>')
    table = '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5">' + "".join(rows) + "</TABLE>>"
    return "\n".join([
        NOTICE,
        'digraph "checkout" {',
        '  graph [fontname="Helvetica", label="Checkout: cart to paid order (synchronous calls, then events)", '
        'labelloc="t", fontsize="14"];',
        '  node [fontname="Helvetica", fontsize="10", shape="plaintext"];',
        f"  sequence [label={table}];",
        "}",
    ]) + "\n"


def mermaid(facts: Facts) -> str:
    all_steps = steps(facts)
    lines = ["%% Generated by `ecommerce diagrams` from the code; do not edit by hand.", "sequenceDiagram"]
    for p in participants(all_steps):
        lines.append(f"    participant {p} as {TITLES.get(p, p).replace(chr(10), ' ')}")
    for step in all_steps:
        arrow = "-->>" if step.reply else "->>"
        lines.append(f"    {step.sender}{arrow}{step.receiver}: {step.text.replace(';', ',')}")
    return "\n".join(lines) + "\n"
