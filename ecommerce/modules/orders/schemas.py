"""Request and response schemas of the orders module (published in OpenAPI)."""

from __future__ import annotations

from pydantic import Field, StrictInt

from ecommerce.kernel.limits import Id
from ecommerce.kernel.schema import ApiModel


class CartItemIn(ApiModel):
    product_id: Id
    quantity: StrictInt = Field(default=1, examples=[2])


class QuantityIn(ApiModel):
    quantity: StrictInt = Field(examples=[3])


class CartLine(ApiModel):
    product_id: int
    name: str | None
    quantity: int
    unit_price: int | None
    line_total: int | None
    available: bool


class CartOut(ApiModel):
    items: list[CartLine]
    total: int
    currency: str | None


class CheckoutIn(ApiModel):
    """Only the address: items come from the cart, prices from the catalog."""

    address_id: Id


class OrderLine(ApiModel):
    product_id: int
    name: str
    sku: str
    quantity: int
    unit_price: int
    line_total: int


class Address(ApiModel):
    id: int
    street: str
    city: str
    state: str | None
    postal_code: str | None
    country: str


class OrderOut(ApiModel):
    id: int
    order_status: str
    payment_status: str
    items: list[OrderLine]
    subtotal: int
    total: int
    currency: str
    shipping_address: Address
    created_at: str
    expires_at: str | None


class OrderPage(ApiModel):
    items: list[OrderOut]
    next_cursor: str | None


class TransitionIn(ApiModel):
    to: str = Field(max_length=20, examples=["shipped"])
