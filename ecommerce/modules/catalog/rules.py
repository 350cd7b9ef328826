"""Input rules of the catalog, shared by the HTTP API, the CSV import and scripts."""

from __future__ import annotations

import re
from typing import Any

from iso3166 import countries_by_alpha2

from ecommerce.kernel.errors import FieldError, ValidationFailed
from ecommerce.kernel.limits import MAX_UNIT_PRICE, is_id

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SLUG = re.compile(r"[^a-z0-9]+")
#: ISO 4217 codes the shop accepts (extend as markets open).
CURRENCIES = frozenset(
    "USD EUR GBP JPY CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY ZAR BRL MXN INR CNY HKD SGD KRW "
    "NGN KES GHS EGP AED SAR ILS".split()
)
MIN_PRICE = 1  # nothing is free: a payment is positive, so an order totalling 0 could never be paid
MAX_PRICE = MAX_UNIT_PRICE  # one hundred million in major units: a typo guard, not a business rule
MAX_STOCK = 1_000_000_000


def slugify(text: str) -> str:
    return SLUG.sub("-", text.lower()).strip("-")[:120] or "item"


def _require_text(errors: list[FieldError], data: dict[str, Any], name: str, limit: int, *, required: bool) -> None:
    if name not in data:
        if required:
            errors.append(FieldError(name, "Field required"))
        return
    value = data[name]
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, "Must be a non-empty string."))
    elif len(value) > limit:
        errors.append(FieldError(name, f"At most {limit} characters."))
    else:
        data[name] = value.strip()


def check_product(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validated, normalised product fields; raises one ValidationFailed naming every bad field."""
    clean = dict(data)
    errors: list[FieldError] = []
    _require_text(errors, clean, "name", 200, required=not partial)
    if "description" in clean and not isinstance(clean["description"], str):
        errors.append(FieldError("description", "Must be a string."))
    if "identification" in clean or not partial:
        sku = clean.get("identification")
        if not isinstance(sku, str) or not SKU.match(sku.strip()):
            errors.append(FieldError("identification", "A SKU of 1-64 letters, digits, '.', '_' or '-'."))
        else:
            clean["identification"] = sku.strip()
    if "price" in clean or not partial:
        price = clean.get("price")
        if not isinstance(price, int) or isinstance(price, bool) or not MIN_PRICE <= price <= MAX_PRICE:
            errors.append(FieldError("price", f"A positive integer amount in minor units (cents), "
                                              f"{MIN_PRICE} to {MAX_PRICE}."))
    if "currency" in clean or not partial:
        currency = clean.get("currency")
        if not isinstance(currency, str) or currency.upper() not in CURRENCIES:
            errors.append(FieldError("currency", "An ISO 4217 code the shop accepts, e.g. USD or EUR."))
        else:
            clean["currency"] = currency.upper()
    for ref in ("brand_id", "category_id"):
        value = clean.get(ref)
        if value is not None and not is_id(value):
            errors.append(FieldError(ref, "An id, or null."))
    if errors:
        raise ValidationFailed("The product is invalid.", errors=errors)
    return clean


def check_quantity(quantity: Any, field: str = "quantity") -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_STOCK:
        raise ValidationFailed("Invalid quantity.", errors=[FieldError(field, f"An integer from 0 to {MAX_STOCK}.")])
    return quantity


def check_location(city: Any, country: Any, latitude: Any, longitude: Any) -> dict[str, Any]:
    errors: list[FieldError] = []
    if not isinstance(city, str) or not city.strip() or len(city) > 100:
        errors.append(FieldError("location.city", "A city name (1-100 characters)."))
    if not isinstance(country, str) or country.upper() not in countries_by_alpha2:
        errors.append(FieldError("location.country", "An ISO 3166-1 alpha-2 country code."))
    for name, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if value is not None and (not isinstance(value, int | float) or not -bound <= value <= bound):
            errors.append(FieldError(f"location.{name}", f"A number from -{bound} to {bound}, or null."))
    if errors:
        raise ValidationFailed("The location is invalid.", errors=errors)
    return {"city": city.strip(), "country": country.upper(), "latitude": coordinate(latitude),
            "longitude": coordinate(longitude)}


#: Decimal places kept of a coordinate: a tenth of a metre, more than a warehouse's address needs.
COORDINATE_PLACES = 6


def coordinate(value: float | None) -> float | None:
    """A coordinate as stored: rounded to :data:`COORDINATE_PLACES`. Why: PostgreSQL keeps it in a ``real``
    column (about seven significant digits, no value nearer zero than about 1e-38), which refuses a
    number such as -3.5e-145 that JSON allows and the range check passes (the fuzz test found it: a 500);
    rounded, it is 0. Adding 0.0 turns -0.0 into 0.0."""
    return None if value is None else round(float(value), COORDINATE_PLACES) + 0.0
