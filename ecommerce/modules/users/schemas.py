"""Request and response schemas of the users module (pydantic; published in OpenAPI), and the user the
facade returns: one frozen dataclass for callers in Python and for the API's ``UserOut``.

Types and sizes only: the *rules* (email syntax, password policy, country codes) live in ``rules.py``
so scripts and the CLI get them too. Unknown fields — ``role``, ``status``, ``id`` sent by a client —
are ignored, never applied.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from iso3166 import countries_by_alpha2
from pydantic import Field, with_config

from ecommerce.kernel.schema import VISIBLE, ApiModel, caseless_choice
from ecommerce.modules.users import rules
from ecommerce.modules.users.rules import ADDRESS_LIMITS as LIMIT

# Generous caps: enough for any real value, small enough that nothing huge is ever hashed or stored.
PASSWORD_FIELD = Field(max_length=1024)


PHONE = Field(default=None, pattern=rules.E164.pattern, examples=["+14155550123"], description="E.164")


class RegisterIn(ApiModel):
    email: str = Field(max_length=320, examples=["ada@example.com"], description="A valid address (else 400)")
    password: str = Field(min_length=rules.PASSWORD_MIN, max_length=rules.PASSWORD_MAX,
                          examples=["lovelace-analytical-1843"],
                          description="Not one of the most common passwords (else 400)")
    phone: str | None = PHONE


class LoginIn(ApiModel):
    email: str = Field(max_length=320)
    password: str = PASSWORD_FIELD


class RefreshIn(ApiModel):
    refresh_token: str = Field(max_length=512)


class ProfilePatch(ApiModel):
    """Send ``phone`` (``null`` clears it); to change the password send both password fields."""

    phone: str | None = PHONE
    current_password: str | None = Field(default=None, max_length=1024, description="Required with password")
    password: str | None = Field(default=None, min_length=rules.PASSWORD_MIN, max_length=rules.PASSWORD_MAX,
                                 description="Not one of the most common passwords (else 400)")


# A user as the module publishes it: what its facade returns (a frozen value that can cross a process, see
# ``kernel.remote.codec``) and what the API answers, so the two cannot disagree. Published as ``UserOut``,
# its name in the API since the start; a comment, not a docstring, which OpenAPI would publish as well.
@with_config(title="UserOut")
@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    phone: str | None
    role: str
    status: str
    created_at: datetime.datetime


class UserPage(ApiModel):
    items: list[UserView]
    next_cursor: str | None


class TokenOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


COUNTRY = caseless_choice(countries_by_alpha2)


class AddressIn(ApiModel):
    street: str = Field(min_length=1, max_length=LIMIT["street"], pattern=VISIBLE, examples=["1 Infinite Loop"])
    city: str = Field(min_length=1, max_length=LIMIT["city"], pattern=VISIBLE, examples=["Cupertino"])
    state: str | None = Field(default=None, max_length=LIMIT["state"], examples=["CA"])
    postal_code: str | None = Field(default=None, max_length=LIMIT["postal_code"], examples=["95014"])
    country: str = Field(pattern=COUNTRY, examples=["US"], description="ISO 3166-1 alpha-2")


class AddressPatch(ApiModel):
    """Send only what changes; ``street``, ``city`` and ``country`` cannot be cleared (not null)."""

    street: str = Field(default=None, min_length=1, max_length=LIMIT["street"], pattern=VISIBLE)  # type: ignore[assignment]
    city: str = Field(default=None, min_length=1, max_length=LIMIT["city"], pattern=VISIBLE)  # type: ignore[assignment]
    state: str | None = Field(default=None, max_length=LIMIT["state"])
    postal_code: str | None = Field(default=None, max_length=LIMIT["postal_code"])
    country: str = Field(default=None, pattern=COUNTRY, description="ISO 3166-1 alpha-2")  # type: ignore[assignment]


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
    status: Literal["active", "suspended", "deleted"] | None = Field(default=None, examples=["suspended"])
    role: Literal["customer", "admin"] | None = Field(default=None, examples=["admin"])
