"""Integration events the wishlist publishes: frozen dataclasses with a versioned name."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class ProductWished(IntegrationEvent):
    """A user added a product to their wishlist (once per user and product)."""

    name = "wishlist.ProductWished"
    version = 1

    user_id: int
    product_id: int
