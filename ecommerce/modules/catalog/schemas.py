"""Request and response schemas of the catalog (published in OpenAPI); rules live in ``rules.py``."""

from __future__ import annotations

from typing import Literal

from iso3166 import countries_by_alpha2
from pydantic import Field, StrictInt

from ecommerce.kernel.limits import Id, QueryAmount, QueryId, UnitPrice
from ecommerce.kernel.schema import VISIBLE, ApiModel, caseless_choice
from ecommerce.modules.catalog import rules

# The constraints below are the ones rules.py enforces, published so the contract says what the server
# refuses (tests/contract checks both agree). Text must hold a visible character: rules.py strips it.
CURRENCY = caseless_choice(rules.CURRENCIES)
COUNTRY = caseless_choice(countries_by_alpha2)


class ProductIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, pattern=VISIBLE, examples=["Northwind Air 5 Laptop"])
    description: str = Field(default="", max_length=10_000)
    price: UnitPrice = Field(examples=[129999])
    currency: str = Field(pattern=CURRENCY, examples=["USD"], description="An ISO 4217 code the shop accepts")
    identification: str = Field(max_length=64, pattern=rules.SKU.pattern, examples=["NW-AIR5-14"],
                                description="The SKU (unique)")
    brand_id: Id | None = Field(default=None, description="An existing brand (else 400)")
    category_id: Id | None = Field(default=None, description="An existing category (else 400)")


class ProductPatch(ApiModel):
    """Send only what changes; only ``brand_id`` and ``category_id`` can be cleared (null)."""

    name: str = Field(default=None, min_length=1, max_length=200, pattern=VISIBLE)  # type: ignore[assignment]
    description: str = Field(default=None, max_length=10_000)  # type: ignore[assignment]
    price: UnitPrice = Field(default=None)  # type: ignore[assignment]
    currency: str = Field(default=None, pattern=CURRENCY)  # type: ignore[assignment]
    identification: str = Field(default=None, max_length=64, pattern=rules.SKU.pattern)  # type: ignore[assignment]
    brand_id: Id | None = Field(default=None, description="An existing brand (else 400)")
    category_id: Id | None = Field(default=None, description="An existing category (else 400)")


class WarehouseStock(ApiModel):
    warehouse_id: int
    name: str
    quantity: int


class Availability(ApiModel):
    total: int
    warehouses: list[WarehouseStock] | None = None


class ProductOut(ApiModel):
    id: int
    name: str
    description: str
    price: int
    currency: str
    identification: str
    brand_id: int | None
    brand: str | None
    category_id: int | None
    category: str | None
    created_at: str
    availability: Availability


class ProductSummary(ApiModel):
    """A product as the modules that list the catalog's documents publish it (search hits, recommendations):
    :class:`~ecommerce.modules.catalog.api.ProductDocument`'s fields; their ``availability`` carries the total only."""

    id: int
    name: str
    sku: str
    brand: str | None
    category: str | None
    price: int
    currency: str
    availability: Availability


class ProductPage(ApiModel):
    items: list[ProductOut]
    next_cursor: str | None


class ProductQuery(ApiModel):
    category: str | None = Field(default=None, max_length=120, description="Category id or slug (with sub-categories)")
    brand: QueryId | None = Field(default=None, description="Brand id")
    min_price: QueryAmount | None = None
    max_price: QueryAmount | None = None
    in_stock: bool = False
    q: str | None = Field(default=None, max_length=200, description="Text in the name, or an exact SKU")
    sort: Literal["price", "-price", "name", "-created_at"] = "-created_at"
    limit: str | None = None
    cursor: str | None = None


class NameIn(ApiModel):
    name: str = Field(min_length=1, max_length=100, pattern=VISIBLE)


class CategoryIn(ApiModel):
    name: str = Field(min_length=1, max_length=100, pattern=VISIBLE, examples=["Running Shoes"])
    parent_id: Id | None = Field(default=None, description="An existing category (else 400)")


class CategoryPatch(ApiModel):
    name: str = Field(default=None, min_length=1, max_length=100, pattern=VISIBLE)  # type: ignore[assignment]
    parent_id: Id | None = Field(default=None, description="An existing category, not below this one")


class CategoryOut(ApiModel):
    id: int
    name: str
    slug: str
    parent_id: int | None
    children: list[int]


class CategoryList(ApiModel):
    items: list[CategoryOut]


class BrandOut(ApiModel):
    id: int
    name: str


class BrandList(ApiModel):
    items: list[BrandOut]


class LocationIn(ApiModel):
    city: str = Field(min_length=1, max_length=100, pattern=VISIBLE, examples=["Berlin"])
    country: str = Field(pattern=COUNTRY, examples=["DE"], description="ISO 3166-1 alpha-2")
    latitude: float | None = Field(default=None, ge=-90, le=90, strict=True)
    longitude: float | None = Field(default=None, ge=-180, le=180, strict=True)


class WarehouseIn(ApiModel):
    name: str = Field(min_length=1, max_length=100, pattern=VISIBLE, examples=["Berlin DC"])
    location: LocationIn


class WarehousePatch(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=VISIBLE)
    location: LocationIn | None = None


class WarehouseOut(ApiModel):
    id: int
    name: str
    location: LocationIn


class WarehouseList(ApiModel):
    items: list[WarehouseOut]


class StockIn(ApiModel):
    quantity: StrictInt = Field(ge=0, le=rules.MAX_STOCK, examples=[120])


class StockOut(ApiModel):
    warehouse_id: int
    product_id: int
    quantity: int
    reserved: int
