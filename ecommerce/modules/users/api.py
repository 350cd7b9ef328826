"""The users module's public facade: what other modules and scripts may call.

Plain functions returning frozen DTOs, so callers never hold a peewee model of another module.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ecommerce.kernel.errors import NotFound
from ecommerce.modules.users import service
from ecommerce.modules.users.models import User


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    phone: str | None
    role: str
    status: str
    created_at: datetime.datetime


def _view(user: User) -> UserView:
    return UserView(user.id, user.email, user.phone, user.role, user.status, user.created_at)


def get_user(user_id: int) -> UserView:
    """The user with this id; raises :class:`~ecommerce.kernel.errors.NotFound`."""
    return _view(service.get_user(user_id))


def find_user(user_id: int) -> UserView | None:
    try:
        return get_user(user_id)
    except NotFound:
        return None


def register(email: str, password: str, phone: str | None = None) -> UserView:
    """Create a customer account (the same rules as ``POST /auth/register``)."""
    return _view(service.register(email, password, phone))


def is_active(user_id: int) -> bool:
    found = find_user(user_id)
    return found is not None and found.status == service.ACTIVE
