"""Integration events the wishlist publishes: frozen dataclasses with a versioned name."""

from __future__ import annotations

from ecommerce.kernel.events import IntegrationEvent, integration_event


@integration_event("wishlist.ProductWished")
class ProductWished(IntegrationEvent):
    """A user added a product to their wishlist (once per user and product)."""

    user_id: int
    product_id: int
