"""The caller's cart, priced live through one batched ``catalog.api.snapshot`` call.

Prices are never stored in the cart: what the customer sees is what the catalog says now. A line
whose product was deleted stays visible as unavailable (and counts for nothing) rather than vanishing.

Every change of a cart first *touches* its row (``updated_at`` = now, in the change's transaction): the
row lock makes one user's concurrent changes run one at a time (so the 100-line limit holds under
concurrency), and ``updated_at`` says when the customer last changed the cart, which the idle-cart
purge (:func:`purge_idle`) goes by.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from peewee import EXCLUDED, IntegrityError, Value

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.orders import settings
from ecommerce.modules.orders.models import Cart, CartItem, database

MAX_QUANTITY = 99
MAX_LINES = 100


def _quantity(quantity: Any) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed(
            "Invalid quantity.", errors=[FieldError("quantity", f"An integer from 1 to {MAX_QUANTITY}.")]
        )
    return quantity


#: The hot statements of add to cart and checkout, compiled once (issue 15: peewee building SQL was about a
#: third of the app's CPU in a checkout). Times are declared ``str`` and given as datetimes.
_CREATE_CART = Statement(database, lambda user_id, now: (
    Cart.insert(user_id=user_id, created_at=now, updated_at=now).on_conflict_ignore().as_rowcount()), int, str)
#: The first statement of every cart change: 0 when the user has no cart yet.
_TOUCH_CART = Statement(database, lambda user_id, now: (
    Cart.update(updated_at=now).where(Cart.user_id == user_id)), int, str)
#: The line's upsert finds the user's cart itself (a subquery, not a read first).
_ADD_TO_USERS_CART = Statement(database, lambda user_id, pid, qty, now: (
    CartItem.insert_from(Cart.select(Cart.id, Value(pid), Value(qty), Value(now)).where(Cart.user_id == user_id),
                         fields=[CartItem.cart, CartItem.product_id, CartItem.quantity, CartItem.added_at])
    .on_conflict(conflict_target=[CartItem.cart, CartItem.product_id],
                 update={CartItem.quantity: CartItem.quantity + EXCLUDED.quantity})
    .as_rowcount()
), int, int, int, str)
#: The ordered units' removal finds the user's cart in the same statement (a subquery, not a read first).
_DELETE_ORDERED = Statement(database, lambda user_id, pid, qty: CartItem.delete().where(
    (CartItem.cart == Cart.select(Cart.id).where(Cart.user_id == user_id)) & (CartItem.product_id == pid)
    & (CartItem.quantity <= qty)))
_LOWER_ORDERED = Statement(database, lambda user_id, pid, qty: CartItem.update(quantity=CartItem.quantity - qty).where(
    (CartItem.cart == Cart.select(Cart.id).where(Cart.user_id == user_id)) & (CartItem.product_id == pid)
    & (CartItem.quantity > qty)))
_SET_LINE = Statement(database, lambda user_id, pid, qty: CartItem.update(quantity=qty).where(
    (CartItem.cart == Cart.select(Cart.id).where(Cart.user_id == user_id)) & (CartItem.product_id == pid)))
_REMOVE_LINE = Statement(database, lambda user_id, pid: CartItem.delete().where(
    (CartItem.cart == Cart.select(Cart.id).where(Cart.user_id == user_id)) & (CartItem.product_id == pid)))
_REMOVE_LINES = Statement(database, lambda user_id: CartItem.delete().where(
    CartItem.cart == Cart.select(Cart.id).where(Cart.user_id == user_id)))
#: One batch of the idle-cart purge. ``updated_at < cutoff`` stands in the outer WHERE too, not only in the
#: subquery: PostgreSQL re-checks the outer condition on a row changed while the DELETE waited for its lock,
#: so a cart touched by a concurrent change is kept (the subquery's ids alone would delete it).
_DELETE_IDLE = Statement(database, lambda cutoff, batch: Cart.delete().where(
    (Cart.updated_at < cutoff)
    & Cart.id.in_(Cart.select(Cart.id).where(Cart.updated_at < cutoff).order_by(Cart.updated_at).limit(batch))),
    str, int)


def _touch(user_id: int, now: datetime.datetime) -> bool:
    """Mark the user's cart changed now and lock its row until the transaction ends; False: no cart."""
    return bool(_TOUCH_CART.execute(user_id, now))


#: The user's lines in one statement compiled once (was two peewee queries building models); with the compiled
#: catalog snapshot, GET /cart went from 0.4k to 1.1-1.3k req/s (benchmarks/http, PostgreSQL, 1 worker).
_LINES = Statement(database, lambda user_id: (
    CartItem.select(CartItem.product_id, CartItem.quantity).join(Cart)
    .where(Cart.user_id == user_id).order_by(CartItem.id)
))


def lines(user_id: int) -> list[tuple[int, int]]:
    return [(product_id, quantity) for product_id, quantity in _LINES.rows(user_id)]


def view(user_id: int) -> dict[str, Any]:
    """The cart as the API shows it: each line priced now, unavailable lines flagged, one total."""
    return _priced(lines(user_id))


def _priced(items: list[tuple[int, int]], prices: dict[int, Any] | None = None) -> dict[str, Any]:
    """``prices``: the catalog's snapshot of ``items`` when the caller has it already (one read less)."""
    if prices is None:
        prices = catalog.snapshot([pid for pid, _ in items])
    rendered: list[dict[str, Any]] = []
    total = 0
    currency: str | None = None
    for product_id, quantity in items:
        snap = prices.get(product_id)
        if snap is None:
            rendered.append({"product_id": product_id, "name": None, "quantity": quantity, "unit_price": None,
                             "line_total": None, "available": False})
            continue
        line_total = snap.unit_price * quantity
        total += line_total
        currency = currency or snap.currency
        rendered.append({"product_id": product_id, "name": snap.name, "quantity": quantity,
                         "unit_price": snap.unit_price, "line_total": line_total,
                         "available": snap.available >= quantity})
    return {"items": rendered, "total": total, "currency": currency}


def _product_id(product_id: Any) -> int:
    if not isinstance(product_id, int) or isinstance(product_id, bool) or product_id < 1:
        raise ValidationFailed("Invalid product.", errors=[FieldError("product_id", "A product id.")])
    return product_id


def add(user_id: int, product_id: Any, quantity: Any) -> dict[str, Any]:
    """Add units of a product to its line (one upsert); a line holds at most 99 — the CHECK constraint
    decides, so two concurrent adds cannot push a line past the limit."""
    pid, qty = _product_id(product_id), _quantity(quantity)
    try:
        # The upsert (it finds the cart itself) and reading the lines back: one transaction. On PostgreSQL each
        # statement outside one is a commit of its own (ADR 0015: add to cart went from 4 orders commits to 1).
        # The catalog is read once, for every line, inside it: an unknown product rolls the upsert back
        # (404), and the same snapshot prices the answer (3 commits -> 2; a read takes no lock of ours).
        with database.atomic():
            now = utcnow()
            if not _touch(user_id, now) and not _CREATE_CART.execute(user_id, now):
                _touch(user_id, now)  # a concurrent first add created it meanwhile: lock it too
            _ADD_TO_USERS_CART.execute(user_id, pid, qty, now)
            items = lines(user_id)
            if len(items) > MAX_LINES:  # the lines read back count them (was a COUNT of its own)
                # 409, not 400: the request is valid, the cart's current state refuses it.
                raise Conflict(f"The cart is full (at most {MAX_LINES} lines).",
                               errors=[FieldError("product_id", f"At most {MAX_LINES} lines.")])
            prices = catalog.snapshot([line_pid for line_pid, _ in items])
            if pid not in prices:
                raise NotFound(f"No product {pid}.")
    except IntegrityError:
        raise Conflict(
            f"Too many units: a cart line holds at most {MAX_QUANTITY}.",
            errors=[FieldError("quantity", f"A cart line holds at most {MAX_QUANTITY}.")],
        ) from None
    return _priced(items, prices)


def set_quantity(user_id: int, product_id: int, quantity: Any) -> dict[str, Any]:
    qty = _quantity(quantity)
    with database.atomic():  # a missing line rolls the touch back with it
        if not (_touch(user_id, utcnow()) and _SET_LINE.execute(user_id, product_id, qty) == 1):
            raise NotFound(f"Product {product_id} is not in the cart.")
    return view(user_id)


def remove(user_id: int, product_id: int) -> dict[str, Any]:
    with database.atomic():
        if not (_touch(user_id, utcnow()) and _REMOVE_LINE.execute(user_id, product_id) == 1):
            raise NotFound(f"Product {product_id} is not in the cart.")
    return view(user_id)


def clear(user_id: int) -> None:
    with database.atomic():
        if _touch(user_id, utcnow()):
            _REMOVE_LINES.execute(user_id)


def remove_ordered(user_id: int, items: Sequence[tuple[int, int]]) -> None:
    """Take exactly the ordered units out of the cart, inside the order's transaction.

    Each ordered line loses the ordered quantity and disappears at 0; a line added, or raised, while the
    checkout ran keeps the difference (never ``clear``, which would drop it unseen). The cart is touched
    first, like every change of it: under its row lock no other change of the cart runs, so a line that
    holds no more than was ordered is deleted, and otherwise lowered (one of the two conditional statements
    applies; neither, when the line was removed meanwhile).
    """
    if not _touch(user_id, utcnow()):
        return  # no cart (purged meanwhile): nothing left to take
    for product_id, quantity in items:
        if not _DELETE_ORDERED.execute(user_id, product_id, quantity):
            _LOWER_ORDERED.execute(user_id, product_id, quantity)


def purge_idle(now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Delete the carts nobody changed for the module's ``cart_ttl`` (their lines go with them), oldest
    first, one batch per call; how many. Safe beside live requests and in several workers at once: a
    cart changed meanwhile no longer matches the DELETE, and a deleted cart is simply made anew by the
    customer's next add."""
    cutoff = (now or utcnow()) - settings.runtime.get().cart_lifetime
    with database.atomic():
        return _DELETE_IDLE.execute(cutoff, batch)
