"""What each page shows, composed from the other modules' facades: plain synchronous functions (run in
the thread pool by ``http.py``) that return the data a template renders.

Nothing here knows HTTP or HTML: a test or a script can call these directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.errors import FieldError, NotFound, ValidationFailed
from ecommerce.kernel.pagination import PageRequest, decode_cursor
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.users import api as users

SORTS = {"-created_at": "Newest", "price": "Price: low to high", "-price": "Price: high to low", "name": "Name"}
LISTING_SIZE = 12
HOME_SIZE = 8


@dataclass(frozen=True)
class Filters:
    """A listing's filters as a shopper sets them in the form (prices in whole currency units)."""

    category: str | None = None
    brand: int | None = None
    min_price: int | None = None  # minor units
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "-created_at"
    cursor: str | None = None

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of this listing (without the cursor), for links and the next page."""
        values = {"category": self.category, "brand": self.brand,
                  "min_price": None if self.min_price is None else self.min_price // 100,
                  "max_price": None if self.max_price is None else self.max_price // 100,
                  "in_stock": "1" if self.in_stock else None, "sort": self.sort, **changes}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _number(value: str | None, field: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise ValidationFailed(f"{field} must be a whole number.", errors=[FieldError(field, "Whole number")]) from None
    if not 0 <= number <= 10_000_000:
        raise ValidationFailed(f"{field} is out of range.", errors=[FieldError(field, "0 to 10000000")])
    return number


def parse_filters(args: dict[str, str]) -> Filters:
    """Filters from the query string; 400 (a friendly page) for a value that is not one."""
    sort = args.get("sort") or "-created_at"
    if sort not in SORTS:
        raise ValidationFailed("Unknown sort order.", errors=[FieldError("sort", ", ".join(SORTS))])
    low, high = _number(args.get("min_price"), "min_price"), _number(args.get("max_price"), "max_price")
    cursor = args.get("cursor") or None
    if cursor:
        decode_cursor(cursor)  # 400 for a cursor the server did not issue
    return Filters(category=args.get("category") or None, brand=_number(args.get("brand"), "brand"),
                   min_price=None if low is None else low * 100, max_price=None if high is None else high * 100,
                   in_stock=args.get("in_stock") in ("1", "on", "true"), sort=sort, cursor=cursor)


def _request(cursor: str | None, size: int) -> PageRequest:
    return PageRequest.parse(str(size), cursor)


def _category_index(tree: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    tree = catalog.categories() if tree is None else tree
    by_id = {c["id"]: c for c in tree}
    return {"tree": tree, "roots": [c for c in tree if c["parent_id"] is None], "by_id": by_id,
            "by_slug": {c["slug"]: c for c in tree}}


def navigation(tree: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The categories for the menu (the catalog caches the tree)."""
    index = _category_index(tree)
    return {"categories": index["roots"], "all_categories": index["tree"]}


def home(recommendations: Any | None) -> dict[str, Any]:
    """Popular products (best sellers, from recommendations when enabled) and the newest ones."""
    newest = catalog.listing(_request(None, HOME_SIZE), in_stock=True).items
    popular: list[dict[str, Any]] = []
    if recommendations is not None:
        popular = [_doc(r.product) for r in recommendations.popular(HOME_SIZE)]
    return {"newest": newest, "popular": popular, **navigation()}


def _doc(doc: catalog.ProductDocument) -> dict[str, Any]:
    """A recommendation's product in the shape of a listing item."""
    return {"id": doc.product_id, "name": doc.name, "price": doc.price, "currency": doc.currency,
            "brand": doc.brand, "category": doc.category, "availability": {"total": doc.available}}


def listing(filters: Filters) -> dict[str, Any]:
    """One keyset page of a category, a brand or everything, filtered and sorted."""
    nav = {**navigation(), "brands": catalog.brands()}
    category = None
    if filters.category:
        index = _category_index()
        category = index["by_slug"].get(filters.category)
        if category is None:
            raise NotFound("No such category.")
    brand = next((b for b in nav["brands"] if b["id"] == filters.brand), None)
    if filters.brand is not None and brand is None:
        raise NotFound("No such brand.")
    page = catalog.listing(_request(filters.cursor, LISTING_SIZE), category=filters.category, brand=filters.brand,
                           min_price=filters.min_price, max_price=filters.max_price, in_stock=filters.in_stock,
                           sort=filters.sort)
    title = category["name"] if category else brand["name"] if brand else "All products"
    return {"items": page.items, "next_cursor": page.next_cursor, "filters": filters, "category": category,
            "brand": brand, "title": title, "sorts": SORTS, **nav}


def search(search_api: Any, q: str, cursor: str | None) -> dict[str, Any]:
    """Ranked hits with highlighted names and snippets (already escaped, ``<mark>`` only)."""
    if not q.strip():
        return {"q": q, "hits": [], "next_cursor": None, **navigation()}
    page = search_api.find(q, _request(cursor, LISTING_SIZE))
    return {"q": q, "hits": page.items, "next_cursor": page.next_cursor, **navigation()}


def product(product_id: int) -> dict[str, Any]:
    """A product: the catalog's cached detail, the same dict ``GET /api/v1/products/{id}`` answers."""
    return {"product": catalog.product(product_id), **navigation()}


def decoded_product(detail: bytes, tree: bytes) -> dict[str, Any]:
    """:func:`product` from the catalog cache's bytes (``catalog.peek_product_encoded``): no query, no
    blocking, so the event loop can build it."""
    return {"product": json.loads(detail), **navigation(json.loads(tree))}


def together(product_id: int, recommendations: Any) -> dict[str, Any]:
    """What was bought together with a product (then popular in its category, then popular): loaded
    after the page (htmx), so the product page costs no more than the cached detail it shows."""
    found = catalog.product(product_id)
    items = [{**_doc(r.product), "reason": r.reason} for r in recommendations.for_product(product_id, 4)]
    return {"product": found, "together": items, **navigation()}


def parse_quantity(value: str | None) -> int:
    number = _number(value, "quantity")
    if number is None or number > 99:
        raise ValidationFailed("Choose a quantity from 0 to 99.", errors=[FieldError("quantity", "0 to 99")])
    return number


def parse_id(value: str | None, field: str) -> int:
    number = _number(value, field)
    if number is None or number < 1:
        raise ValidationFailed(f"Choose a {field.replace('_', ' ')}.", errors=[FieldError(field, "Required")])
    return number


ADDRESS_FIELDS = ("street", "city", "state", "postal_code", "country")


def parse_address(form: dict[str, str]) -> dict[str, str | None]:
    """An address from the checkout form; 400 naming the missing fields."""
    fields: dict[str, str | None] = {f: (form.get(f) or "").strip() or None for f in ADDRESS_FIELDS}
    country = (fields["country"] or "").upper()
    missing = [FieldError(f, "Required") for f in ("street", "city") if not fields[f]]
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        missing.append(FieldError("country", "Two letters, e.g. DE"))
    if missing:
        raise ValidationFailed("Complete the address: " + ", ".join(e.field for e in missing) + ".", errors=missing)
    fields["country"] = country
    return fields


def addresses(user_id: int) -> list[users.AddressView]:
    return users.addresses_of(user_id)
