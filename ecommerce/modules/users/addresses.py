"""The caller's address book. Every query is scoped by the owner, so another user's address is simply
not found (404), never "forbidden" — which would confirm that it exists."""

from __future__ import annotations

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import for_update
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.kernel.statements import Statement
from ecommerce.modules.users import rules
from ecommerce.modules.users.models import Address, User, database

MAX_ADDRESSES_PER_USER = 50


def _owned(user_id: int, address_id: int) -> Address:
    address = Address.get_or_none((Address.id == address_id) & (Address.user == user_id))
    if address is None:
        raise NotFound("No such address.")
    return address


#: The address a checkout ships to, compiled once (every checkout reads it: issue 15).
_VIEW = Statement(database, lambda user_id, address_id: Address.select(
    Address.id, Address.user, Address.street, Address.city, Address.state, Address.postal_code, Address.country,
).where((Address.id == address_id) & (Address.user == user_id)))


def view_row(user_id: int, address_id: int) -> tuple[int, int, str, str, str | None, str | None, str]:
    """(id, user id, street, city, state, postal code, country) of the owner's address, or :class:`NotFound`."""
    found = _VIEW.rows(user_id, address_id)
    if not found:
        raise NotFound("No such address.")
    return found[0]


def create(user_id: int, fields: dict[str, str | None]) -> Address:
    clean = rules.clean_address(fields)
    with database.atomic():
        # Lock the owner so two concurrent creates cannot both pass the cap (SQLite: BEGIN IMMEDIATE).
        for_update(User.select(User.id).where(User.id == user_id)).execute()
        if Address.select().where(Address.user == user_id).count() >= MAX_ADDRESSES_PER_USER:
            raise Conflict(f"An account can keep at most {MAX_ADDRESSES_PER_USER} addresses.")
        now = utcnow()
        return Address.create(user=user_id, created_at=now, updated_at=now, **clean)


def get(user_id: int, address_id: int) -> Address:
    return _owned(user_id, address_id)


def list_page(user_id: int, page: PageRequest) -> Page[Address]:
    """Keyset pagination by id: stable while addresses are added concurrently."""
    after = page.after_id()
    rows = list(
        Address.select()
        .where((Address.user == user_id) & (Address.id > after))
        .order_by(Address.id)
        .limit(page.limit + 1)
    )
    return Page.from_rows(rows, page.limit, lambda last: {"id": last.id})


def update(user_id: int, address_id: int, fields: dict[str, str | None]) -> Address:
    clean = rules.clean_address(fields, partial=True)
    updated = (
        Address.update(updated_at=utcnow(), **clean)
        .where((Address.id == address_id) & (Address.user == user_id))
        .execute()
    )
    if updated != 1:
        raise NotFound("No such address.")
    return _owned(user_id, address_id)


def delete(user_id: int, address_id: int) -> None:
    deleted = Address.delete().where((Address.id == address_id) & (Address.user == user_id)).execute()
    if deleted != 1:
        raise NotFound("No such address.")
