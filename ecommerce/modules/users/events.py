"""Integration events the users module publishes (public contract: other modules may import this)."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.events import IntegrationEvent


@dataclass(frozen=True)
class UserRegistered(IntegrationEvent):
    name = "users.UserRegistered"
    version = 1

    user_id: int
    email: str
