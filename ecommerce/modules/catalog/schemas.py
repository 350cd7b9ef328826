"""Request and response schemas of the catalog (published in OpenAPI); rules live in ``rules.py``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictFloat, StrictInt

from ecommerce.kernel.limits import Id, QueryAmount, QueryId, UnitPrice
from ecommerce.kernel.schema import ApiModel
from ecommerce.modules.catalog.rules import MAX_STOCK


class ProductIn(ApiModel):
    name: str = Field(max_length=200, examples=["Northwind Air 5 Laptop"])
    description: str = Field(default="", max_length=10_000)
    price: UnitPrice = Field(examples=[129999])
    currency: str = Field(max_length=3, examples=["USD"])
    identification: str = Field(max_length=64, examples=["NW-AIR5-14"], description="The SKU (unique)")
    brand_id: Id | None = None
    category_id: Id | None = None


class ProductPatch(ApiModel):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    price: UnitPrice | None = None
    currency: str | None = Field(default=None, max_length=3)
    identification: str | None = Field(default=None, max_length=64)
    brand_id: Id | None = None
    category_id: Id | None = None


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
    name: str = Field(max_length=100)


class CategoryIn(ApiModel):
    name: str = Field(max_length=100, examples=["Running Shoes"])
    parent_id: Id | None = None


class CategoryPatch(ApiModel):
    name: str | None = Field(default=None, max_length=100)
    parent_id: Id | None = None


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
    city: str = Field(max_length=100, examples=["Berlin"])
    country: str = Field(max_length=2, examples=["DE"])
    latitude: StrictFloat | StrictInt | None = None
    longitude: StrictFloat | StrictInt | None = None


class WarehouseIn(ApiModel):
    name: str = Field(max_length=100, examples=["Berlin DC"])
    location: LocationIn


class WarehousePatch(ApiModel):
    name: str | None = Field(default=None, max_length=100)
    location: LocationIn | None = None


class WarehouseOut(ApiModel):
    id: int
    name: str
    location: LocationIn


class WarehouseList(ApiModel):
    items: list[WarehouseOut]


class StockIn(ApiModel):
    quantity: StrictInt = Field(ge=0, le=MAX_STOCK, examples=[120])


class StockOut(ApiModel):
    warehouse_id: int
    product_id: int
    quantity: int
    reserved: int
