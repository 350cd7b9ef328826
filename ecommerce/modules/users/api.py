"""The users module's public facade: what other modules and scripts may call.

Plain functions returning frozen DTOs, so callers never hold a peewee model of another module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ecommerce.kernel.errors import NotFound
from ecommerce.kernel.pagination import PageRequest
from ecommerce.kernel.remote import remotable
from ecommerce.kernel.security.tokens import Principal
from ecommerce.modules.users import accounts, addresses, sessions
from ecommerce.modules.users.models import Address, User
from ecommerce.modules.users.schemas import AddressOut as AddressOut  # the published address (orders' snapshot)
from ecommerce.modules.users.schemas import UserView as UserView  # the published user (OpenAPI's UserOut)
from ecommerce.modules.users.sessions import TokenPair


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
        """The address as an order's snapshot keeps it (and as the API shows it): without its owner."""
        return {name: value for name, value in dataclasses.asdict(self).items() if name != "user_id"}


def user_view(user: User) -> UserView:
    return UserView(user.id, user.email, user.phone, user.role, user.status, user.created_at)


def address_view(address: Address) -> AddressView:
    return AddressView(
        address.id, address.user_id, address.street, address.city, address.state, address.postal_code, address.country
    )


@remotable("users", idempotent=True)
def get_user(user_id: int) -> UserView:
    """The user with this id; raises :class:`~ecommerce.kernel.errors.NotFound`."""
    return UserView(*accounts.view_row(user_id))


@remotable("users", idempotent=True)
def find_user(user_id: int) -> UserView | None:
    try:
        return get_user(user_id)
    except NotFound:
        return None


@remotable("users", idempotent=True)
def find_users(user_ids: Sequence[int]) -> dict[int, UserView]:
    """``find_user`` for several ids in one query: the users that exist, by id (deleted or unknown: absent)."""
    return {row[0]: UserView(*row) for row in accounts.view_rows(list(user_ids))}


@remotable("users", idempotent=False)
def register(email: str, password: str, phone: str | None = None) -> UserView:
    """Create a customer account (the same rules as ``POST /auth/register``)."""
    return user_view(accounts.register(email, password, phone))


@remotable("users", idempotent=True)
def is_active(user_id: int) -> bool:
    found = find_user(user_id)
    return found is not None and found.status == accounts.ACTIVE


@remotable("users", idempotent=True)
def address_snapshot(user_id: int, address_id: int) -> AddressView:
    """The address if it belongs to ``user_id``; :class:`NotFound` otherwise (also for someone else's)."""
    return AddressView(*addresses.view_row(user_id, address_id))


@remotable("users", idempotent=True)
def authenticate(token: str) -> Principal:
    """The principal of a valid access token whose session is live; :class:`Unauthorized` otherwise.

    What every other service asks the users service once per token (then remembers for
    ``ECOMMERCE_SESSION_CHECK_TTL`` seconds): the key ring and the sessions live here."""
    principal = accounts.config().tokens.verify(token)
    sessions.check_principal(principal)
    return principal


# --- sessions, for a front end that keeps the pair in a cookie (the same sessions as /auth/*) -------
def login(email: str, password: str, *, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Open a session: an access and a refresh token (401 for a bad login, all failures alike)."""
    return sessions.login(email, password, ip=ip, user_agent=user_agent)


def refresh(refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair; a reused one revokes the session (401)."""
    return sessions.refresh(refresh_token)


def logout(principal: Principal) -> None:
    """End the session and block its access token, as ``POST /auth/logout`` does."""
    sessions.logout(principal)


def addresses_of(user_id: int, limit: int = 50) -> list[AddressView]:
    """The user's addresses, oldest first (the first page: a shopper has a handful)."""
    return [address_view(a) for a in addresses.list_page(user_id, PageRequest(limit)).items]


def add_address(user_id: int, fields: dict[str, str | None]) -> AddressView:
    """Save an address (street, city, state, postal_code, country); 409 past the per-user limit."""
    return address_view(addresses.create(user_id, fields))
