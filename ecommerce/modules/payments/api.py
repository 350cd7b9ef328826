"""The payments module's public facade: saved cards and charges, for a front end or a script.

The card number goes into :func:`save_card` and from there only into the vault (encrypted); nothing
here returns it, or the CVC, again: a card is its token, brand, last four digits and expiry.
"""

from __future__ import annotations

from typing import Any

from ecommerce.modules.payments import card_tokens, charges

__all__ = ["cards", "pay", "save_card"]


def cards(user_id: int) -> list[dict[str, Any]]:
    """The user's saved cards: ``id`` (the token), ``brand``, ``last4``, ``exp_month``, ``exp_year``."""
    return card_tokens.mine(user_id)


def save_card(user_id: int, card_number: str, exp_month: int, exp_year: int, cvc: str,
              holder_name: str | None = None) -> dict[str, Any]:
    """Tokenize a card (400 for a bad number, expiry or CVC); the same card twice gives the same token."""
    return card_tokens.tokenize(user_id, card_number, exp_month, exp_year, cvc, holder_name)


def pay(user_id: int, order_id: int, token: str, cvc: str | None = None) -> dict[str, Any]:
    """Charge a saved card for the order: the payment with its ``status`` (``succeeded``, ``failed``...);
    409 when the order cannot be paid (already paid, cancelled, expired)."""
    return charges.charge(user_id, order_id, token, cvc)
