"""The wishlist's use cases (wish, forget, list, count): plain synchronous Python, one transaction each (the HTTP
layer runs them in a thread)."""

from __future__ import annotations

from typing import Any

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.modules.catalog import api as catalog  # another module: only through its facade
from ecommerce_wishlist.events import ProductWished
from ecommerce_wishlist.models import Wish, database, events
from ecommerce_wishlist.settings import runtime


def _row(wish: Wish, names: dict[int, Any]) -> dict[str, Any]:
    snap = names.get(wish.product_id)
    return {"product_id": wish.product_id, "name": snap.name if snap else None,
            "price": snap.unit_price if snap else None, "note": wish.note}


def wishes(user_id: int) -> dict[str, Any]:
    rows = list(Wish.select().where(Wish.user_id == user_id).order_by(Wish.id))
    names = catalog.snapshot([w.product_id for w in rows])  # one call for every line
    return {"items": [_row(w, names) for w in rows]}


def add(user_id: int, product_id: int, note: str) -> bool:
    """Wish for a product; True when it is new. The unique (user, product) index decides, so two
    concurrent requests make one row and one event (never check-then-act). A list already holding
    ``max_items`` products (the module's setting) refuses a new one with 409."""
    if product_id not in catalog.snapshot([product_id]):
        raise NotFound(f"No product {product_id}.")
    limit = runtime.get().max_items
    try:
        with database.atomic():
            Wish.create(user_id=user_id, product_id=product_id, note=note, created_at=utcnow())
            if Wish.select().where(Wish.user_id == user_id).count() > limit:  # counted with the new row
                raise Conflict(f"A wishlist holds at most {limit} products.")
            events.publish(ProductWished(user_id=user_id, product_id=product_id))  # commits with the row
    except IntegrityError:
        return False  # already wished for: nothing changes, no second event
    return True


def remove(user_id: int, product_id: int) -> None:
    deleted = Wish.delete().where((Wish.user_id == user_id) & (Wish.product_id == product_id)).execute()
    if not deleted:
        raise NotFound(f"Product {product_id} is not in your wishlist.")


def forget_product(product_id: int) -> int:
    """A product left the catalog: nobody can wish for it any more."""
    return int(Wish.delete().where(Wish.product_id == product_id).execute())


def count(product_id: int) -> int:
    return int(Wish.select().where(Wish.product_id == product_id).count())
