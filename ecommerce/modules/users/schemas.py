"""Request and response schemas of the users module (pydantic; published in OpenAPI).

Types and sizes only: the *rules* (email syntax, password policy, country codes) live in ``rules.py``
so scripts and the CLI get them too. Unknown fields — ``role``, ``status``, ``id`` sent by a client —
are ignored, never applied.
"""

from __future__ import annotations

import datetime

from pydantic import Field

from ecommerce.kernel.schema import ApiModel

# Generous caps: enough for any real value, small enough that nothing huge is ever hashed or stored.
PASSWORD_FIELD = Field(max_length=1024)


class RegisterIn(ApiModel):
    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024, examples=["lovelace-analytical-1843"])
    phone: str | None = Field(default=None, max_length=32, examples=["+14155550123"])


class LoginIn(ApiModel):
    email: str = Field(max_length=320)
    password: str = PASSWORD_FIELD


class RefreshIn(ApiModel):
    refresh_token: str = Field(max_length=512)


class ProfilePatch(ApiModel):
    """Send ``phone`` (``null`` clears it); to change the password send both password fields."""

    phone: str | None = Field(default=None, max_length=32)
    current_password: str | None = Field(default=None, max_length=1024)
    password: str | None = Field(default=None, max_length=1024)


class UserOut(ApiModel):
    id: int
    email: str
    phone: str | None
    role: str
    status: str
    created_at: datetime.datetime


class UserPage(ApiModel):
    items: list[UserOut]
    next_cursor: str | None


class TokenOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class AddressIn(ApiModel):
    street: str = Field(max_length=200, examples=["1 Infinite Loop"])
    city: str = Field(max_length=100, examples=["Cupertino"])
    state: str | None = Field(default=None, max_length=100, examples=["CA"])
    postal_code: str | None = Field(default=None, max_length=20, examples=["95014"])
    country: str = Field(max_length=2, examples=["US"])


class AddressPatch(ApiModel):
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)


class AddressOut(ApiModel):
    id: int
    street: str
    city: str
    state: str | None
    postal_code: str | None
    country: str


class AddressPage(ApiModel):
    items: list[AddressOut]
    next_cursor: str | None


class UserAdminPatch(ApiModel):
    status: str | None = Field(default=None, max_length=16, examples=["suspended"])
    role: str | None = Field(default=None, max_length=16, examples=["admin"])
