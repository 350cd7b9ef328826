"""Notification templates: files shipped with the package, substitution only, no surprises."""

from __future__ import annotations

import pytest

from ecommerce.modules.notifications import reactions, templates

VALUES: dict[str, object] = {"email": "ada@example.com", "order_id": 42, "items": 3, "total": "49.99 EUR",
                             "payment_id": 7, "amount": "49.99 EUR", "reason": "card declined", "refund_note": ""}


def test_every_template_the_reactions_use_is_shipped_and_renders() -> None:
    used = {"welcome", "order_placed", "payment_succeeded", "payment_failed", *reactions.ORDER_STATES.values()}
    assert set(templates.names()) == used
    for name in used:
        rendered = templates.render(name, VALUES)
        assert rendered.subject and "\n" not in rendered.subject
        assert "$" not in rendered.subject + rendered.body, name


def test_a_missing_value_fails_loudly() -> None:
    with pytest.raises(KeyError):
        templates.render("order_placed", {"order_id": 1})


def test_values_are_text_not_code_and_never_break_the_subject() -> None:
    hostile = {**VALUES, "order_id": "1\r\nBcc: victim@example.com", "items": "${email} {0.__class__} $((1+1))"}
    rendered = templates.render("order_placed", hostile)
    assert rendered.subject == "Order #1 Bcc: victim@example.com received"
    assert "${email} {0.__class__} $((1+1))" in rendered.body  # substituted once, literally


@pytest.mark.parametrize(("amount", "text"), [(0, "0.00 USD"), (5, "0.05 USD"), (4999, "49.99 USD"),
                                              (123456, "1234.56 USD")])
def test_money(amount: int, text: str) -> None:
    assert templates.money(amount, "USD") == text
