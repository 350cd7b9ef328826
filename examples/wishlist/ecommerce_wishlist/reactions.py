"""Reactions to other modules' events. Atomic (the default): the handler only writes this module's own
database, so its writes and the inbox record commit together and a redelivery changes nothing."""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.events import Envelope, Subscription
from ecommerce.modules.catalog.events import ProductDeleted
from ecommerce_wishlist import wishes


def on_product_deleted(envelope: Envelope[Any]) -> None:
    wishes.forget_product(envelope.event.product_id)


SUBSCRIPTIONS = [Subscription(ProductDeleted, on_product_deleted, name="wishlist.product-deleted")]
