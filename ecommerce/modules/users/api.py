"""The users module's public facade: what other modules and scripts may call.

Plain functions returning frozen DTOs, so callers never hold a peewee model of another module.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ecommerce.kernel.errors import NotFound
from ecommerce.modules.users import addresses, service
from ecommerce.modules.users.models import Address, User


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    phone: str | None
    role: str
    status: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class AddressView:
    """An address as it is now; orders keep this snapshot, so later edits never rewrite history."""

    id: int
    user_id: int
    street: str
    city: str
    state: str | None
    postal_code: str | None
    country: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
        }


def user_view(user: User) -> UserView:
    return UserView(user.id, user.email, user.phone, user.role, user.status, user.created_at)


def address_view(address: Address) -> AddressView:
    return AddressView(
        address.id, address.user_id, address.street, address.city, address.state, address.postal_code, address.country
    )


def get_user(user_id: int) -> UserView:
    """The user with this id; raises :class:`~ecommerce.kernel.errors.NotFound`."""
    return UserView(*service.view_row(user_id))


def find_user(user_id: int) -> UserView | None:
    try:
        return get_user(user_id)
    except NotFound:
        return None


def register(email: str, password: str, phone: str | None = None) -> UserView:
    """Create a customer account (the same rules as ``POST /auth/register``)."""
    return user_view(service.register(email, password, phone))


def is_active(user_id: int) -> bool:
    found = find_user(user_id)
    return found is not None and found.status == service.ACTIVE


def address_snapshot(user_id: int, address_id: int) -> AddressView:
    """The address if it belongs to ``user_id``; :class:`NotFound` otherwise (also for someone else's)."""
    return AddressView(*addresses.view_row(user_id, address_id))
