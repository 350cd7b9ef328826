"""Integration events the users module publishes (public contract: other modules may import this)."""

from __future__ import annotations

from ecommerce.kernel.events import IntegrationEvent, integration_event


@integration_event("users.UserRegistered")
class UserRegistered(IntegrationEvent):
    user_id: int
    email: str
