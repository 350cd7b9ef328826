"""The catalog's public facade, used by orders (and by scripts).

Plain functions and frozen DTOs; nothing here hands out a peewee model.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.errors import ServiceUnavailable
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.kernel.remote import is_remote, remotable
from ecommerce.kernel.replicas import replica_reads
from ecommerce.modules.catalog import caching, products, reservations, stock, taxonomy
from ecommerce.modules.catalog.reservations import InsufficientStock
from ecommerce.modules.catalog.schemas import ProductSummary

__all__ = [
    "InsufficientStock",
    "ProductDocument",
    "ProductSnapshot",
    "ProductSummary",
    "Reserved",
    "brands",
    "categories",
    "category_ids",
    "commit",
    "documents",
    "listing",
    "peek_product",
    "peek_product_encoded",
    "product",
    "release",
    "reserve",
    "reserve_at_prices",
    "reserve_priced",
    "restock",
    "set_stock",
    "snapshot",
    "warehouses",
]


@dataclass(frozen=True)
class ProductSnapshot:
    """What an order line records: the name and unit price at the time of ordering."""

    product_id: int
    name: str
    sku: str
    unit_price: int  # minor units
    currency: str
    available: int  # units that can be sold now, over all warehouses


@dataclass(frozen=True)
class Reserved:
    product_id: int
    warehouse_id: int
    quantity: int


@remotable("catalog", idempotent=True)
def snapshot(product_ids: Sequence[int]) -> dict[int, ProductSnapshot]:
    """Current name and price of each existing product, in one query; deleted or unknown ids are absent."""
    return {
        row["id"]: ProductSnapshot(row["id"], row["name"], row["identification"], row["price"], row["currency"],
                                   int(row["available"] or 0))
        for row in products.snapshot(list(product_ids))
    }


@dataclass(frozen=True)
class ProductDocument:
    """What a search index needs to know of a product (event-driven read models fetch it from here)."""

    product_id: int
    name: str
    description: str
    sku: str
    brand_id: int | None
    brand: str | None
    category_id: int | None
    category: str | None
    price: int
    currency: str
    available: int


@remotable("catalog", idempotent=True)
def documents(product_ids: Sequence[int] | None = None, after: int = 0, limit: int = 500) -> list[ProductDocument]:
    """Live products as documents: the given ids, or a page of all of them (``after`` an id) for a rebuild.
    Deleted or unknown ids are absent. One query."""
    ids = list(product_ids) if product_ids is not None else None
    return [ProductDocument(**row) for row in products.documents(ids, after, limit)]


@remotable("catalog", idempotent=True)
def category_ids(ref: str) -> list[int]:
    """A category (id or slug) and all its descendants; 400 for an unknown one."""
    return taxonomy.resolve_category(ref)


@remotable("catalog", idempotent=True)
def reserve(reference: str, lines: Sequence[tuple[int, int]], near: tuple[float, float] | None = None,
            country: str | None = None, hold_until: datetime.datetime | None = None) -> list[Reserved]:
    """Hold ``(product_id, quantity)`` lines under ``reference``, all or none, until ``hold_until``
    (naive UTC; default now + 30 minutes).

    ``country`` (ISO 3166-1 alpha-2 of the shipping address) puts warehouses in that country first;
    ``near`` (latitude, longitude) then prefers the nearest ones.
    Raises :class:`InsufficientStock` (409) naming the short products. Idempotent per reference.
    A reservation still held after its deadline is expired by the catalog's sweep (its units go back):
    the caller gives whatever confirms it (an order) the same deadline, so nothing outlives its stock.
    """
    plan = reservations.reserve(reference, lines, near, country, hold_until)
    return [Reserved(a.product_id, a.warehouse_id, a.quantity) for a in plan]


def reserve_priced(reference: str, lines: Sequence[tuple[int, int]],
                   accept: Callable[[dict[int, ProductSnapshot]], None], country: str | None = None,
                   hold_until: datetime.datetime | None = None) -> dict[int, ProductSnapshot]:
    """Read the lines' current prices, let ``accept`` refuse them (it raises: nothing is held), then
    :func:`reserve` the lines, all in one catalog transaction; returns the prices.

    Why one transaction: on PostgreSQL a read outside a transaction is a commit of its own, so checkout
    pays one commit here instead of three (ADR 0015). The prices are those the reservation was made at.

    Where the catalog is another service, ``accept`` (a callable) stays here: one call reserves and
    returns the prices, then ``accept`` runs, and if it refuses, the reservation is released (so, as
    in-process, a refusal holds nothing once this returns).
    """
    if is_remote("catalog"):
        try:
            prices = reserve_at_prices(reference, lines, country, hold_until)
        except ServiceUnavailable:
            # It may have been made before the answer was lost: undo it if the catalog answers now; if
            # not, the hold ends at ``hold_until`` (the catalog's sweep), which no order outlives.
            with contextlib.suppress(ServiceUnavailable):
                release(reference)
            raise
        try:
            accept(prices)
        except BaseException:
            release(reference)
            raise
        return prices
    def priced() -> dict[int, ProductSnapshot]:
        prices = snapshot([pid for pid, _ in lines])
        accept(prices)
        return prices

    # The products' cached pages are forgotten after the commit (reserve_after), as after any reservation.
    return reservations.reserve_after(priced, reference, lines, country, hold_until)


@remotable("catalog", idempotent=True)
def reserve_at_prices(reference: str, lines: Sequence[tuple[int, int]], country: str | None = None,
                      hold_until: datetime.datetime | None = None) -> dict[int, ProductSnapshot]:
    """:func:`reserve_priced` accepting any price: its remote half (idempotent per reference)."""
    return reserve_priced(reference, lines, _accept_any, country, hold_until)


def _accept_any(prices: dict[int, ProductSnapshot]) -> None:
    """Every price is acceptable (the caller checks them after the call)."""


@remotable("catalog", idempotent=True)
def release(reference: str) -> bool:
    """Return held units to stock; a second call, or one after the reservation expired, changes nothing
    (returns False)."""
    return reservations.release(reference)


@remotable("catalog", idempotent=True)
def commit(reference: str) -> bool:
    """Held units leave stock for good (the order was paid); a second call changes nothing.

    If the reservation expired meanwhile (a late payment), its units are taken again from free stock;
    :class:`InsufficientStock` (nothing changed) when they were sold in between."""
    return reservations.commit(reference)


@remotable("catalog", idempotent=True)
def restock(reference: str) -> bool:
    """Committed units come back (a paid order cancelled before shipping); a second call changes nothing."""
    return reservations.restock(reference)


# --- reads for a storefront (the same answers as the JSON routes, cached where they are) --------------
@remotable("catalog", idempotent=True)
def product(product_id: int) -> dict[str, Any]:
    """A product with its availability per warehouse (the cached JSON detail); 404 for an unknown one."""
    return products.detail(product_id)


@remotable("catalog", idempotent=True)
@replica_reads
def listing(page: PageRequest, *, category: str | None = None, brand: int | None = None,
            min_price: int | None = None, max_price: int | None = None, in_stock: bool = False,
            q: str | None = None, sort: str = products.DEFAULT_SORT) -> Page[dict[str, Any]]:
    """Products filtered, sorted and keyset-paged, as ``GET /products`` lists them."""
    filters = products.ProductFilters(
        category_ids=taxonomy.resolve_category(category) if category else None, brand_id=brand,
        min_price=min_price, max_price=max_price, in_stock=in_stock, q=q, sort=sort)
    return products.list_page(filters, page)


def peek_product(product_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The product's cached detail and the cached category tree, when both are in this process's cache:
    never blocks, so a page can be served from the event loop; ``None``: call :func:`product` and
    :func:`categories` (in the thread pool)."""
    found = peek_product_encoded(product_id)
    return None if found is None else (json.loads(found[0]), json.loads(found[1]))


def peek_product_encoded(product_id: int) -> tuple[bytes, bytes] | None:
    """:func:`peek_product` as the JSON bytes the cache holds. The cache hands out the same bytes objects
    until the product or the tree changes, so a page rendered from them can be kept while they are."""
    if is_remote("catalog"):  # this process holds no catalog cache: the caller asks the catalog service
        return None
    encoded = caching.peek_encoded(caching.product_key(product_id))
    tree = caching.peek_encoded(caching.TREE_KEY)
    if encoded is None or tree is None:
        return None
    return encoded, tree


@remotable("catalog", idempotent=True)
def categories() -> list[dict[str, Any]]:
    """Every category (id, name, slug, parent_id, children ids), cached."""
    return taxonomy.category_tree()


@remotable("catalog", idempotent=True)
def brands() -> list[dict[str, Any]]:
    """Every brand as ``{"id", "name"}``, by name."""
    return taxonomy.list_brands()


@remotable("catalog", idempotent=True)
def warehouses() -> list[dict[str, Any]]:
    """Every warehouse with its location."""
    return stock.list_warehouses()


@remotable("catalog", idempotent=True)
def set_stock(warehouse_id: int, product_id: int, quantity: int) -> dict[str, int]:
    """An operator's count of a product in a warehouse (the admin route's use case)."""
    return stock.set_stock(warehouse_id, product_id, quantity)
