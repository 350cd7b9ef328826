"""Tokenizing cards: validate, encrypt, keep brand and last four digits; never the CVC."""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import NotFound
from ecommerce.modules.payments import cards, settings
from ecommerce.modules.payments.models import Token, database
from ecommerce.modules.payments.vault import CardDataUnreadable


class Rotation(NamedTuple):
    kid: str  # the key every readable card is now encrypted under
    rotated: int  # cards re-encrypted
    unreadable: list[str]  # token values whose ciphertext no key opens (tampered): left as they were


def view(token: Token) -> dict[str, Any]:
    return {"id": token.value, "brand": token.brand, "last4": token.last4, "exp_month": token.exp_month,
            "exp_year": token.exp_year}


def tokenize(user_id: int, card_number: Any, exp_month: Any, exp_year: Any, cvc: Any,
             holder_name: str | None) -> dict[str, Any]:
    """A token for the card; the same card saved twice by one user gives the same token back."""
    number = cards.clean_number(card_number)
    expiry = cards.check_expiry(exp_month, exp_year)
    cards.check_cvc(cvc, cards.brand(number))  # checked, then dropped: a CVC is never stored
    vault = settings.get().vault
    fingerprint = vault.fingerprint(number)
    existing = Token.get_or_none((Token.user_id == user_id) & (Token.fingerprint == fingerprint)
                                 & Token.deleted_at.is_null() & (Token.exp_month == exp_month)
                                 & (Token.exp_year == exp_year))
    if existing is not None:
        return view(existing)
    value = "tok_" + secrets.token_urlsafe(18)
    key_id, sealed = vault.seal(number, value, user_id)
    with database.atomic():
        token = Token.create(
            value=value, user_id=user_id, brand=cards.brand(number), last4=number[-4:], exp_month=exp_month,
            exp_year=exp_year, expiry=expiry, holder_name=(holder_name or None), key_id=key_id,
            encrypted_number=sealed, fingerprint=fingerprint, created_at=utcnow(),
        )
    return view(token)


def mine(user_id: int) -> list[dict[str, Any]]:
    rows = Token.select().where((Token.user_id == user_id) & Token.deleted_at.is_null()).order_by(Token.id)
    return [view(t) for t in rows]


def owned(user_id: int, value: str) -> Token:
    token = Token.get_or_none((Token.value == value) & (Token.user_id == user_id) & Token.deleted_at.is_null())
    if token is None:
        raise NotFound("No such card.")
    return token


def delete(user_id: int, value: str) -> None:
    """Forget a card: the ciphertext is wiped, the row stays for the payments that used it."""
    deleted = (
        Token.update(deleted_at=utcnow(), encrypted_number=b"")
        .where((Token.value == value) & (Token.user_id == user_id) & Token.deleted_at.is_null())
        .execute()
    )
    if deleted != 1:
        raise NotFound("No such card.")


def rotate_keys(drop_old: bool) -> Rotation:
    """Encrypt every stored card under the active key.

    With the development key file, a new key is made first (and ``drop_old`` then removes the others).
    With ``ECOMMERCE_PAYMENT_KEYS`` the operator has already put the new key first: every card is
    re-encrypted under it, after which the old entries can be deleted from the variable. A card that no
    key opens (tampered data) is skipped and reported, and then the old keys are kept: the run finishes
    the other cards instead of stopping half-way.
    """
    vault = settings.get().vault
    ring = vault.ring
    if ring.path is None:
        if drop_old:
            raise RuntimeError("with ECOMMERCE_PAYMENT_KEYS, remove old keys from the variable after rotating")
        new_kid = ring.active
    else:
        new_kid = f"k{len(ring.keys) + 1}-{secrets.token_hex(3)}"
        ring.keys[new_kid] = secrets.token_bytes(32)
        ring.active = new_kid
        ring.save()  # the new key exists on disk before any card depends on it
    count, unreadable = 0, []
    for token in Token.select().where(Token.deleted_at.is_null() & (Token.key_id != new_kid)):
        try:
            number = vault.open(token.key_id, token.encrypted_number, token.value, token.user_id)
        except CardDataUnreadable:
            unreadable.append(token.value)
            continue
        key_id, sealed = vault.seal(number, token.value, token.user_id)
        Token.update(key_id=key_id, encrypted_number=sealed).where(Token.id == token.id).execute()
        count += 1
    if drop_old and not unreadable:
        ring.keys = {new_kid: ring.keys[new_kid]}
        ring.save()
    return Rotation(new_kid, count, unreadable)
