"""Request and response schemas of the payments module."""

from __future__ import annotations

from pydantic import Field, StrictInt

from ecommerce.kernel.limits import Id, PositiveAmount
from ecommerce.kernel.schema import ApiModel


class CardIn(ApiModel):
    card_number: str = Field(max_length=40, examples=["4242 4242 4242 4242"],
                             description="Digits, spaces and dashes; a valid (Luhn) number (else 400)")
    exp_month: StrictInt = Field(ge=1, le=12, examples=[12])
    exp_year: StrictInt = Field(examples=[2030], description="This year to 25 years ahead; not expired (else 400)")
    cvc: str = Field(pattern=r"^[0-9]{3,4}$", examples=["123"])
    holder_name: str | None = Field(default=None, max_length=100)


class CardOut(ApiModel):
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class CardList(ApiModel):
    items: list[CardOut]


class ChargeIn(ApiModel):
    """The order and the card; the amount always comes from the order."""

    order_id: Id
    token_id: str = Field(max_length=40)
    cvc: str | None = Field(default=None, pattern=r"^[0-9]{3,4}$", description="Used for this authorization only")


class PaymentOut(ApiModel):
    id: int
    order_id: int
    amount: int
    currency: str
    status: str
    refunded_amount: int
    response_code: str | None
    response_message: str | None
    created_at: str


class RefundIn(ApiModel):
    amount: PositiveAmount | None = Field(default=None,
                                          description="Minor units, positive; the whole remainder when absent")
