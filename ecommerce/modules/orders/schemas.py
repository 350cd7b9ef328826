"""Request and response schemas of the orders module (published in OpenAPI)."""

from __future__ import annotations

from pydantic import Field, JsonValue, StrictInt

from ecommerce.kernel.limits import Id
from ecommerce.kernel.schema import ApiModel
from ecommerce.modules.orders import states
from ecommerce.modules.orders.cart import MAX_QUANTITY
from ecommerce.modules.users.api import AddressOut


class CartItemIn(ApiModel):
    product_id: Id
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY, examples=[2],
                                description=f"Units added to the line; a line holds at most {MAX_QUANTITY} (more: 409)")


class QuantityIn(ApiModel):
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY, examples=[3])


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


class Address(AddressOut):
    # The snapshot is ``users.api.AddressView.as_dict()``, the users module's published address: its schema,
    # under the name this document has always given the order's address.
    pass


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
    to: str = Field(max_length=20, examples=["shipped"], description="A state an admin sets (another: 409)",
                    json_schema_extra={"enum": list[JsonValue](sorted(states.ADMIN_TARGETS))})
