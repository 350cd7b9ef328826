"""Request and response shapes (pydantic, published in the OpenAPI document)."""

from __future__ import annotations

from pydantic import Field

from ecommerce.kernel.schema import ApiModel


class WishIn(ApiModel):
    note: str = Field(default="", max_length=200)


class WishOut(ApiModel):
    product_id: int
    name: str | None
    price: int | None
    note: str


class WishList(ApiModel):
    items: list[WishOut]
